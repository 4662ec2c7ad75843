import type { OsInfo } from './os.js';
import type { FoundPackage, TargetKind } from './package.js';
import type { SecretMatch } from './secrets/rules.js';

/** One version of a file: the path in the image and the layer (1-based) that wrote it. */
export interface FileVersion {
  path: string;
  layer: number;
  size: number;
  mode: number;
}

/** What an analyser learnt from one file version. */
export type Finding =
  | { type: 'os'; os: OsInfo }
  | { type: 'packages'; target: TargetKind; packages: FoundPackage[] }
  | { type: 'secrets'; matches: SecretMatch[] };

export interface Analysis {
  findings: Finding[];
  /** Said to the user: a corrupt record skipped, a format not understood. Never file contents. */
  warnings: string[];
}

/** Reads a file as it streams and answers at the end (Go binaries: tens of MB, a few KB needed). */
export interface StreamReader {
  /** Returns false once nothing more is needed; the rest of the file is skipped. */
  write(chunk: Buffer): boolean;
  end(): Analysis;
}

/**
 * One analyser per format (Trivy's shape). The walker offers every file by
 * path and header; an analyser asks only for what it understands, and only
 * those bytes are read, never more than `maxBytes` of one file.
 */
export type Analyser = WholeFileAnalyser | StreamingAnalyser;

interface AnalyserBase {
  readonly name: string;
  /** Decided from the path and tar header alone, before any byte is read. */
  required(path: string, size: number, mode: number): boolean;
}

export interface WholeFileAnalyser extends AnalyserBase {
  readonly kind: 'whole';
  /** A required file larger than this is skipped with a warning. */
  readonly maxBytes: number;
  analyse(file: FileVersion, content: Buffer): Analysis | Promise<Analysis>;
}

export interface StreamingAnalyser extends AnalyserBase {
  readonly kind: 'stream';
  open(file: FileVersion): StreamReader;
}

export const nothing = (): Analysis => ({ findings: [], warnings: [] });

export const found = (finding: Finding, warnings: string[] = []): Analysis => ({ findings: [finding], warnings });
