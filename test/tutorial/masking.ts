// What may differ between the document and a run: hashes (digests, image IDs, tokens), times, scratch paths.
// Hashes are not simply blanked: each hash the document shows is paired with the one the run printed in its
// place, and a pairing must hold everywhere, so "the same digest on both registries" is still checked.

const HASH = /\b[0-9a-f]{12,64}\b/g;
const RELATIVE_TIME = /\b(?:\d+|About an?|Less than a) (?:second|minute|hour|day|week|month|year)s? ago\b/g;
const TIMESTAMP = /\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g;

/** The document's hashes paired one to one with the run's. */
export class HashPairs {
  private readonly toReal = new Map<string, string>();
  private readonly toDoc = new Map<string, string>();

  /** A command as the document writes it, with every hash already paired replaced by the run's. */
  substitute(command: string): string {
    return command.replace(HASH, (h) => this.toReal.get(h) ?? h);
  }

  /** Pairs `doc` with `real`; false when either is already paired with another. */
  pair(doc: string, real: string): boolean {
    const r = this.toReal.get(doc);
    const d = this.toDoc.get(real);
    if (r === undefined && d === undefined) {
      this.toReal.set(doc, real);
      this.toDoc.set(real, doc);
      return true;
    }
    return r === real && d === doc;
  }
}

// Blob transfers run concurrently and each line is printed as its blob finishes, so the order of a run of them is
// whichever came first: such runs are compared as sorted lists of their statuses, the blob ids left out.
const TRANSFER = /^(?:Copying blob [0-9a-f]{12} \w+|[0-9a-f]{12}: (?:Pushed|Layer already exists|Already exists|Mounted from \S+))$/;

function unorderTransfers(text: string): string {
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const line of text.split('\n')) {
    if (TRANSFER.test(line)) run.push(line.replace(/[0-9a-f]{12}/, '<blob>'));
    else (flush(), out.push(line));
  }
  flush();
  return out.join('\n');
}

const unclock = (text: string): string => text.replace(RELATIVE_TIME, '<time> ago').replace(TIMESTAMP, '<timestamp>');

/**
 * The run's output and the document's, both with times masked and transfer lines unordered; the run's hashes are written as the document's
 * they pair with. When the two show a different number of hashes, or a pairing breaks, nothing is paired and
 * the texts differ where they should.
 */
export function compareForm(printed: string, shown: string, pairs: HashPairs): { real: string; doc: string } {
  const real = unorderTransfers(printed.trimEnd());
  const doc = unorderTransfers(shown);
  const realHashes = real.match(HASH) ?? [];
  const docHashes = doc.match(HASH) ?? [];
  const paired = realHashes.length === docHashes.length && realHashes.every((h, i) => pairs.pair(docHashes[i]!, h));
  let i = 0;
  const rewritten = paired ? real.replace(HASH, () => docHashes[i++]!) : real;
  return { real: unclock(rewritten), doc: unclock(doc) };
}
