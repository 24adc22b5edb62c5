/**
 * Reading a Cyrus SASL sasldb (Berkeley DB, what `saslpasswd2` writes to /etc/sasldb2) so an
 * administrator moving from Cyrus can bring the users along: `cyr_saslpasswd -I <file>`.
 *
 * We do not link Berkeley DB; the file is read through Debian's `db_dump -p` (package
 * db5.3-util / db-util), whose "printable" output gives each record as two lines, key then
 * value, each starting with a space, non-printable bytes written `\XX` (hex) and a backslash
 * as `\\`. Cyrus SASL's keys are `user NUL realm NUL property`; the property that matters is
 * `userPassword` (the cleartext). Other properties (SCRAM secrets of newer plugins, ...) are
 * skipped: our own secrets are derived again from the cleartext.
 *
 * Imports: node built-ins.
 */
import { execFile } from 'node:child_process';

export interface CyrusSasldbEntry {
  user: string;
  realm: string;
  property: string;
  value: Buffer;
}

/** Undo db_dump's printable escaping of one line (without its leading space). */
export function unescapeDumpLine(line: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c) {
      if (line[i + 1] === '\\') {
        out.push(0x5c);
        i++;
        continue;
      }
      const hex = line.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`bad escape in db_dump output: \\${hex}`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      // db_dump -p leaves printable ASCII as is; anything else would have been escaped
      out.push(c & 0xff);
    }
  }
  return Buffer.from(out);
}

/** Parse `db_dump -p` output into sasldb entries (records whose key is not user\0realm\0prop are skipped). */
export function parseDbDump(text: string): CyrusSasldbEntry[] {
  const lines = text.split('\n');
  const start = lines.indexOf('HEADER=END');
  if (start < 0 || !lines.slice(0, start).includes('format=print'))
    throw new Error('not a printable db_dump output');
  const out: CyrusSasldbEntry[] = [];
  for (let i = start + 1; i + 1 < lines.length; i += 2) {
    if (lines[i] === 'DATA=END') break;
    const k = lines[i];
    const v = lines[i + 1];
    if (!k.startsWith(' ') || !v.startsWith(' ')) throw new Error(`unexpected db_dump line ${i + 1}`);
    const key = unescapeDumpLine(k.slice(1));
    const parts: Buffer[] = [];
    let from = 0;
    for (let j = 0; j <= key.length; j++) {
      if (j === key.length || key[j] === 0) {
        parts.push(key.subarray(from, j));
        from = j + 1;
      }
    }
    if (parts.length !== 3) continue;
    out.push({
      user: parts[0].toString('utf8'),
      realm: parts[1].toString('utf8'),
      property: parts[2].toString('utf8'),
      value: unescapeDumpLine(v.slice(1)),
    });
  }
  return out;
}

const DUMPERS = ['db_dump', 'db5.3_dump'];

/** Run db_dump on a Cyrus sasldb file and parse it. Rejects with a readable message. */
export async function readCyrusSasldb(file: string): Promise<CyrusSasldbEntry[]> {
  let lastErr = '';
  for (const prog of DUMPERS) {
    try {
      const text = await new Promise<string>((resolve, reject) =>
        execFile(prog, ['-p', file], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) =>
          err ? reject(new Error(stderr.trim() || err.message)) : resolve(stdout),
        ),
      );
      return parseDbDump(text);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      lastErr = err.message;
      if (err.code === 'ENOENT') continue;
      throw new Error(`${prog} -p ${file}: ${err.message}`);
    }
  }
  throw new Error(`cannot read ${file}: db_dump not found (install db-util or db5.3-util) ${lastErr}`);
}
