/**
 * PASS <password>  (RFC 1939 7): the password is the rest of the line (it may hold spaces).
 * A failure costs failedloginpause (Cyrus: 3 s) and is logged without the password.
 * `user+folder` logs in as `user` and opens INBOX.folder when popsubfolders is on.
 */
import type { PopCommand } from './index.js';
import { E } from '../replies.js';
import { splitSubfolder } from './login-name.js';

export const pass: PopCommand = {
  verb: 'PASS',
  states: ['authorization'],
  async run(s, _args, line) {
    if (s.state.kind !== 'authorization') return;
    const raw = s.state.user;
    if (raw === null) return s.line(E.needUser);
    s.state = { kind: 'authorization', user: null };
    const password = line.slice(5);
    const { user, folder } = splitSubfolder(raw, s.deps.conf);
    const id = await s.deps.auth.checkPassword(user, password, {
      service: s.deps.conf.service || 'pop3',
      secure: s.secure,
      remote: s.conn.remote,
    });
    if (!id) {
      await delay(s.deps.auth.failedLoginDelay());
      return s.line(E.invalidLogin);
    }
    await s.login(id, folder);
  },
};

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
