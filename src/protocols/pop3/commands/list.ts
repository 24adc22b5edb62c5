/** LIST [msg]  (RFC 1939 5): scan listings "<n> <octets>"; deleted messages are left out. */
import type { PopCommand } from './index.js';

export const list: PopCommand = {
  verb: 'LIST',
  states: ['transaction'],
  args: [0, 1],
  async run(s, args) {
    if (s.state.kind !== 'transaction') return;
    const drop = s.state.drop;
    if (args.length === 1) {
      const m = s.message(args[0]);
      if (m) s.line(`+OK ${args[0]!.replace(/^0+(?=\d)/, '')} ${m.size}`);
      return;
    }
    const { count, octets } = drop.stat();
    await writeListing(s, `+OK ${count} messages (${octets} octets)`, drop.size, (n) => {
      const m = drop.get(n);
      return m ? `${n} ${m.size}` : null;
    });
  },
};

/** a multi-line listing, written in slices so a huge maildrop respects back-pressure */
export async function writeListing(
  s: Parameters<typeof list.run>[0],
  first: string,
  total: number,
  entry: (n: number) => string | null,
): Promise<void> {
  let buf = first + '\r\n';
  for (let n = 1; n <= total; n++) {
    const e = entry(n);
    if (e !== null) buf += e + '\r\n';
    if (buf.length > 64 * 1024) {
      s.write(buf);
      buf = '';
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  s.write(buf + '.\r\n');
}
