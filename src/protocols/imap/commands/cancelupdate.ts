/**
 * CANCELUPDATE (RFC 5267 §4.5): `tag CANCELUPDATE "tag1" ["tag2"...]` ends the live contexts
 * that SEARCH/SORT RETURN (UPDATE) made under those tags (context.ts). A tag naming no live
 * context is BAD, and then none is cancelled.
 */
import { ImapSyntaxError } from '../args.js';
import type { Command } from '../command.js';

const cancelupdate: Command = {
  names: ['CANCELUPDATE'],
  states: ['selected'],
  run({ session }, args) {
    const tags: string[] = [];
    // tag-string = string: quoted or literal, never an atom
    do {
      if (args.peek()?.t !== 'string') throw new ImapSyntaxError('Invalid Cancelupdate argument');
      tags.push(args.astring());
    } while (args.remaining > 0);
    for (const t of tags)
      if (!session.contexts?.has(t)) throw new ImapSyntaxError(`Unknown search context "${t}"`);
    for (const t of tags) session.contexts!.cancel(t);
  },
};
export default cancelupdate;
