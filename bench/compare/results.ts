/**
 * The comparison table: one row per measured figure, one column per server, then the ratios
 * ours/dovecot and ours/cyrus, and whether higher or lower is better for that row.
 *
 * Owns: `Results` (collects figures, errors and notes as the servers run one after another)
 * and its plain-text rendering. A failed measurement is kept as an error cell with a
 * numbered footnote holding the full message.
 */

export type Better = 'higher' | 'lower';

interface Row {
  name: string;
  unit: string;
  better: Better;
  cells: Map<string, number | { error: string }>;
}

export const SERVERS = ['ours', 'dovecot', 'cyrus'] as const;

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export class Results {
  private rows: Row[] = [];
  private notes: string[] = [];

  constructor(private readonly title: string) {}

  private row(name: string, unit: string, better: Better): Row {
    let r = this.rows.find((x) => x.name === name);
    if (!r) {
      r = { name, unit, better, cells: new Map() };
      this.rows.push(r);
    }
    return r;
  }

  set(name: string, unit: string, better: Better, server: string, value: number): void {
    this.row(name, unit, better).cells.set(server, value);
  }

  error(name: string, unit: string, better: Better, server: string, e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.row(name, unit, better).cells.set(server, { error: msg });
  }

  /**
   * Measure one row: `fn` returns the figure; a thrown error is recorded in the cell and
   * printed at once, and the run goes on.
   */
  async measure(
    name: string,
    unit: string,
    better: Better,
    server: string,
    fn: () => Promise<number>,
  ): Promise<number | null> {
    try {
      const v = await fn();
      this.set(name, unit, better, server, v);
      console.error(`  [${server}] ${name}: ${fmt(v)} ${unit}`);
      return v;
    } catch (e) {
      this.error(name, unit, better, server, e);
      console.error(`  [${server}] ${name}: ERROR ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  note(text: string): void {
    this.notes.push(text);
  }

  render(): string {
    const footnotes: string[] = [];
    const cell = (r: Row, s: string): string => {
      const v = r.cells.get(s);
      if (v === undefined) return '-';
      if (typeof v === 'number') return fmt(v);
      let k = footnotes.indexOf(`${s}: ${v.error}`);
      if (k < 0) k = footnotes.push(`${s}: ${v.error}`) - 1;
      return `ERROR[${k + 1}]`;
    };
    const ratio = (r: Row, peer: string): string => {
      const a = r.cells.get('ours');
      const b = r.cells.get(peer);
      if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return '-';
      return `${(a / b).toFixed(2)}x`;
    };
    const head = ['workload', 'unit', 'better', ...SERVERS, 'ours/dovecot', 'ours/cyrus'];
    const body = this.rows.map((r) => [
      r.name,
      r.unit,
      r.better,
      ...SERVERS.map((s) => cell(r, s)),
      ratio(r, 'dovecot'),
      ratio(r, 'cyrus'),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cols: string[]): string =>
      cols
        .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd();
    const out = [`${this.title}`, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
    if (footnotes.length) out.push('', ...footnotes.map((f, i) => `[${i + 1}] ${f}`));
    if (this.notes.length) out.push('', ...this.notes.map((n) => `note: ${n}`));
    return out.join('\n');
  }
}
