/**
 * ID (RFC 2971): `tag ID ("name" "x" ...)` or `tag ID NIL` → `* ID (...)` (NIL when
 * `imapidresponse` is off). The client's parameters are logged, bounded.
 */
import { textOf } from '../args.js';
import type { Command } from '../command.js';
import { str } from '../response.js';

const id: Command = {
  names: ['ID'],
  states: ['notAuthenticated', 'authenticated', 'selected'],
  run({ session }, args) {
    const t = args.take();
    if (t.t === 'list') {
      if (t.v.length % 2 !== 0 || t.v.length > 60)
        return { status: 'BAD', text: 'Invalid field-value pairs in ID' };
      const pairs: string[] = [];
      for (let i = 0; i < t.v.length; i += 2) {
        const k = textOf(t.v[i]);
        const v = textOf(t.v[i + 1]);
        if (k === null || k.length > 30) return { status: 'BAD', text: 'Invalid field-value pairs in ID' };
        pairs.push(`${k}=${(v ?? 'NIL').slice(0, 1024)}`);
      }
      session.log.info(`client id: ${pairs.join('; ')}`);
    } else if (!(t.t === 'atom' && t.v.toUpperCase() === 'NIL')) {
      return { status: 'BAD', text: 'Invalid parameter list in ID' };
    }
    args.end();
    if (!session.conf.getSwitch('imapidresponse')) {
      session.untagged('ID NIL');
      return;
    }
    const fields: [string, string][] = [
      ['name', 'Cyrus-TS IMAPD'],
      ['vendor', 'cyrus-ts'],
      ['support-url', 'https://www.cyrusimap.org'],
    ];
    if (session.conf.getEnum('serverinfo') === 'on') {
      fields.splice(1, 0, ['version', '0.1.0']);
      fields.push(['os', process.platform], ['environment', `Node.js ${process.version}`]);
    }
    session.untagged(`ID (${fields.map(([k, v]) => `${str(k)} ${str(v)}`).join(' ')})`);
  },
};
export default id;
