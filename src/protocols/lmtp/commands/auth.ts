/**
 * AUTH <mechanism> [<initial-response>|=]  (RFC 4954 4): SASL exchange with `334 <base64>`
 * challenges and `*` to cancel; `235` on success. As in Cyrus, only administrators (or
 * proxy/postman identities the authenticator authorises as admin) may authenticate to LMTP:
 * LMTP lets the client deliver to any mailbox.
 */
import type { LmtpCommand } from './index.js';
import { SaslFailure } from '../../../auth/api.js';
import { R } from '../replies.js';

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const auth: LmtpCommand = {
  verb: 'AUTH',
  needsLhlo: true,
  needsAuth: false,
  async run(s, arg) {
    const authn = s.deps.auth;
    if (!authn) return s.send(R.mechUnknown);
    if (s.authenticated) return s.send(R.alreadyAuth);
    if (s.txn)
      return s.send({ code: 503, enhanced: '5.5.1', text: 'AUTH not permitted during a mail transaction' });
    const [mech = '', initial, extra] = arg.split(' ');
    if (mech === '' || extra !== undefined) return s.send(R.paramSyntax);
    let ex;
    try {
      ex = authn.start(mech, {
        service: s.deps.conf.service || 'lmtp',
        secure: s.secure,
        serverName: s.deps.serverName,
        remote: s.conn.remote,
        // a unix-socket (or -a) peer is postman already: EXTERNAL confirms that identity
        externalId: s.conn.preauth ? 'postman' : undefined,
      });
    } catch (e) {
      if (e instanceof SaslFailure) return s.send(R.mechUnknown);
      throw e;
    }
    let response: Buffer | null = null;
    if (initial !== undefined) {
      if (initial === '=') response = Buffer.alloc(0);
      else if (B64.test(initial)) response = Buffer.from(initial, 'base64');
      else return s.send(R.paramSyntax);
    }
    try {
      for (;;) {
        const step = await ex.step(response ?? Buffer.alloc(0));
        if ('done' in step) {
          const id = authn.identityFor(step.done.authcid, step.done.authzid);
          const confirmsPreauth = s.conn.preauth && id.userid === 'postman';
          if (!id.isAdmin && !confirmsPreauth) {
            s.log.notice(`AUTH as non-admin ${id.userid} refused`);
            await delay(authn.failedLoginDelay());
            return s.send(R.authNotAllowed);
          }
          s.identity = id;
          s.authenticated = true;
          s.conn.proc?.update({ user: id.userid });
          s.log.info(`login: ${s.conn.remote} ${id.userid} ${mech.toUpperCase()} User logged in`);
          return s.send(R.authOk);
        }
        s.write(`334 ${step.challenge.toString('base64')}\r\n`);
        const got = await s.reader.readLine();
        if (got === null) return s.close();
        if ('tooLong' in got) return s.send(R.lineTooLong);
        const text = got.line.toString('latin1').trim();
        if (text === '*') return s.send(R.authCancelled);
        if (!B64.test(text)) return s.send(R.paramSyntax);
        response = Buffer.from(text, 'base64');
      }
    } catch (e) {
      if (!(e instanceof SaslFailure)) throw e;
      await delay(authn.failedLoginDelay());
      s.send(R.authFailed);
    }
  },
};

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
