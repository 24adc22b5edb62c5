/** APOP <name> <digest>  (RFC 1939 7): MD5 of the greeting's timestamp and the password. */
import type { PopCommand } from './index.js';
import { E } from '../replies.js';
import { delay } from './pass.js';
import { splitSubfolder } from './login-name.js';

export const apop: PopCommand = {
  verb: 'APOP',
  states: ['authorization'],
  args: [2, 2],
  async run(s, args) {
    if (!s.apopBanner) return s.line(E.apopUnavailable);
    const { user, folder } = splitSubfolder(args[0]!, s.deps.conf);
    const id = await s.deps.auth.apop(user, s.apopBanner, args[1]!, {
      service: s.deps.conf.service || 'pop3',
      remote: s.conn.remote,
    });
    if (!id) {
      await delay(s.deps.auth.failedLoginDelay());
      return s.line(E.invalidLogin);
    }
    await s.login(id, folder);
  },
};
