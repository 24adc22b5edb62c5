/**
 * RETR <msg>  (RFC 1939 5): the whole message, byte-stuffed, streamed from its file.
 * With popuseimapflags the message gets \Seen (Cyrus).
 */
import type { PopCommand } from './index.js';

export const retr: PopCommand = {
  verb: 'RETR',
  states: ['transaction'],
  args: [1, 1],
  async run(s, args) {
    if (s.state.kind !== 'transaction') return;
    const m = s.message(args[0]);
    if (!m) return;
    const drop = s.state.drop;
    await s.sendMessage(m.uid, `+OK Message follows`, undefined, m.size);
    if (drop.useImapFlags) {
      try {
        drop.view.storeFlags([m.uid], 'add', ['\\Seen']);
      } catch (e) {
        s.log.warning(`cannot set \\Seen on uid ${m.uid}: ${String(e)}`);
      }
    }
  },
};
