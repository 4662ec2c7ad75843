import cvssCalculator from 'ae-cvss-calculator';
import { ratingOfScore, type Severity } from './severity.js';

export interface CvssRating {
  vector: string;
  score: number;
  severity: Severity;
}

/** The base score and rating of a CVSS v2, v3.0, v3.1 or v4.0 vector (metæffekt's calculator); undefined if it does not parse. */
export function rateCvss(vector: string): CvssRating | undefined {
  try {
    const { make, major } = calculatorFor(vector);
    const score = make().calculateScores().base;
    if (typeof score !== 'number' || !Number.isFinite(score)) return undefined;
    return { vector, score, severity: ratingOfScore(score, major) };
  } catch {
    return undefined;
  }
}

const { Cvss2, Cvss3P0, Cvss3P1, Cvss4P0 } = cvssCalculator;

function calculatorFor(vector: string): { make: () => { calculateScores(): { base?: number } }; major: number } {
  if (vector.startsWith('CVSS:4.0/')) return { make: () => new Cvss4P0(vector), major: 4 };
  if (vector.startsWith('CVSS:3.1/')) return { make: () => new Cvss3P1(vector), major: 3 };
  if (vector.startsWith('CVSS:3.0/')) return { make: () => new Cvss3P0(vector), major: 3 };
  return { make: () => new Cvss2(vector.replace(/^\(|\)$/g, '')), major: 2 };
}
