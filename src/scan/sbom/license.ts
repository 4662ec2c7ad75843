import parseSpdx from 'spdx-expression-parse';

/** Whether a declared licence is a valid SPDX expression (`MIT`, `MIT OR Apache-2.0`); free text is not. */
export function isSpdxExpression(value: string): boolean {
  try {
    parseSpdx(value);
    return true;
  } catch {
    return false;
  }
}

/** One SPDX expression for a package's declared licences, or undefined when any is free text. */
export function spdxExpressionOf(licenses: string[]): string | undefined {
  if (licenses.length === 0 || !licenses.every(isSpdxExpression)) return undefined;
  return licenses.length === 1 ? licenses[0] : licenses.map((l) => `(${l})`).join(' AND ');
}
