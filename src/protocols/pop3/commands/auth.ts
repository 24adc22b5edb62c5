/**
 * AUTH [<mechanism> [<initial-response>]]  (RFC 5034): `+ <base64>` challenges, `*` cancels,
 * `=` is an empty initial response. AUTH with no argument lists the mechanisms (as Cyrus and
 * the pre-CAPA clients expect).
 */
import type { PopCommand } from './index.js';
import { SaslFailure } from '../../../auth/api.js';
import { E } from '../replies.js';
import { delay } from './pass.js';
import { splitSubfolder } from './login-name.js';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const auth: PopCommand = {
  verb: 'AUTH',
  states: ['authorization'],
  args: [0, 2],
  async run(s, args) {
    const authn = s.deps.auth;
    if (args.length === 0) {
      const mechs = authn.mechanisms({ secure: s.secure });
      s.write(`+OK List of supported mechanisms follows\r\n${mechs.map((m) => m + '\r\n').join('')}.\r\n`);
      return;
    }
    const mech = args[0]!;
    let ex;
    try {
      ex = authn.start(mech, {
        service: s.deps.conf.service || 'pop3',
        secure: s.secure,
        serverName: s.deps.serverName,
        remote: s.conn.remote,
      });
    } catch (e) {
      if (e instanceof SaslFailure) return s.line(E.mechUnknown);
      throw e;
    }
    let response = Buffer.alloc(0);
    if (args[1] !== undefined && args[1] !== '=') {
      if (!B64.test(args[1])) return s.line(E.syntax);
      response = Buffer.from(args[1], 'base64');
    }
    try {
      for (;;) {
        const step = await ex.step(response);
        if ('done' in step) {
          // RFC 5034 4: additional data with success goes in a final challenge
          if (step.done.final && step.done.final.length > 0) {
            s.write(`+ ${step.done.final.toString('base64')}\r\n`);
            const ack = await s.reader.readLine();
            if (ack === null) return;
          }
          const parts = splitSubfolder(step.done.authzid || step.done.authcid, s.deps.conf);
          const id = authn.identityFor(
            step.done.authzid ? step.done.authcid : parts.user,
            step.done.authzid ? parts.user : '',
          );
          await s.login(id, parts.folder);
          return;
        }
        s.write(`+ ${step.challenge.toString('base64')}\r\n`);
        const got = await s.reader.readLine();
        if (got === null) return;
        if ('tooLong' in got) return s.line(E.lineTooLong);
        const text = got.line.toString('latin1').trim();
        if (text === '*') return s.line(E.authCancelled);
        if (!B64.test(text)) return s.line(E.syntax);
        response = Buffer.from(text, 'base64');
      }
    } catch (e) {
      if (!(e instanceof SaslFailure)) throw e;
      await delay(authn.failedLoginDelay());
      s.line(E.authFailed);
    }
  },
};
