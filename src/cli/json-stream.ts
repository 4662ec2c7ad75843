import { out } from './common.js';

/**
 * Prints a JSON array as its items arrive, formatted as `printJson` would
 * print the whole: a listing of any length never has to be held at once.
 */
export async function printJsonArray(items: AsyncIterable<unknown>): Promise<void> {
  let first = true;
  for await (const item of items) {
    const text = JSON.stringify(item, null, 2).replaceAll('\n', '\n  ');
    process.stdout.write(`${first ? '[\n' : ',\n'}  ${text}`);
    first = false;
  }
  out(first ? '[]' : '\n]');
}

/** The items of each page in turn. */
export async function* flatten<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}
