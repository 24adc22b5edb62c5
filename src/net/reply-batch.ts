/**
 * Replies to a run of pipelined commands gathered into one write (RFC 2920 3.1 for LMTP,
 * RFC 2449's PIPELINING for POP3): `hold` corks a session's output while its reader still has
 * commands buffered, `release` sends what was gathered. A session releases before it waits
 * for the client, streams a large reply, switches to TLS or closes.
 *
 * Owns: the corked state of one session's output (the stream that was corked is the one
 * uncorked, even after STARTTLS replaced the session's output). Imports: node types only.
 */
import type { Writable } from 'node:stream';

export class ReplyBatch {
  #corked: Writable | null = null;

  get holding(): boolean {
    return this.#corked !== null;
  }

  /** gather the writes to `out` from now on (no-op while already holding) */
  hold(out: Writable): void {
    if (this.#corked) return;
    this.#corked = out;
    out.cork();
  }

  /** send what was gathered (no-op when not holding) */
  release(): void {
    const out = this.#corked;
    if (!out) return;
    this.#corked = null;
    out.uncork();
  }
}
