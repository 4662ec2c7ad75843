/** The shapes of the /berth/v1/ answers the UI reads (docs/UI.md documents them). */

export interface RepositorySummary {
  name: string;
  logicalBytes: number;
  storedBytes: number;
  uniqueBytes?: number;
  sharedBytes?: number;
  manifests: number;
  tags: number;
  lastPushed: string | null;
  lastPulled: string | null;
}

export interface RepositoryList {
  repositories: RepositorySummary[];
  offset: number;
  total?: number;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface TagDetail {
  tag: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  logicalBytes: number;
  pushedAt: string;
  pulledAt: string | null;
  platforms: Platform[];
  signatures: number;
  referrers: number;
  attachment: boolean;
  /** Only when the registry scans. */
  scan?: ScanState;
}

export type Severity = 'UNKNOWN' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export type SeverityCounts = Record<Severity, number>;

export interface ScanSummary {
  os?: string;
  packages: number;
  complete: boolean;
  vulnerabilities: SeverityCounts;
  fixable: number;
  secrets: SeverityCounts;
  /** On the image page only: the most severe findings; secrets say where (file, line, layer), never what. */
  worst?: {
    vulnerabilities: { id: string; package: string; installed: string; fixed?: string; severity: Severity }[];
    secrets: { rule: string; where: string; severity: Severity }[];
  };
}

export type ScanState =
  | { state: 'scanned'; scannedAt: string; database: { updatedAt: string | null }; summary: ScanSummary }
  | { state: 'queued' | 'running' | 'retrying' | 'failed' | 'none' | 'not-an-image' };

export interface Permissions {
  delete: boolean;
  usage: boolean;
}

export interface TagPage {
  repository: string;
  permissions: Permissions;
  /** Whether the registry scans images (`scan:` in berth.yaml). */
  scanning: boolean;
  summary?: RepositorySummary;
  tags: TagDetail[];
}

export interface TagMove {
  id?: number;
  tag?: string;
  from: string | null;
  to: string | null;
  at: string;
  actor: string | null;
}

export interface Holder {
  repository: string;
  digest: string;
  tag: string | null;
}

export interface LayerDetail {
  digest: string;
  mediaType: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  holders: Holder[];
  moreHolders: boolean;
}

export interface ReferrerNode {
  digest: string;
  mediaType: string;
  artifactType?: string;
  size: number;
  via: 'subject' | 'tag';
  tag?: string;
  referrers: ReferrerNode[];
}

export interface ConfigSummary {
  digest: string;
  mediaType: string;
  size: number;
  platform?: Platform;
  created?: string;
  author?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  history?: { created?: string; createdBy?: string; comment?: string; emptyLayer: boolean }[];
  historyTotal?: number;
  unreadable?: string;
}

export interface ImageDetails {
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  subject: string | null;
  tags: string[];
  pushedAt: string;
  annotations?: Record<string, string>;
  config?: ConfigSummary;
  layers: { total: number; offset: number; items: LayerDetail[] };
  manifests?: { digest: string; mediaType: string; size: number; platform?: Platform; artifactType?: string }[];
  manifestsTotal?: number;
  referrers: ReferrerNode[];
  /** Only when the registry scans. */
  scan?: ScanState;
  permissions: Permissions;
}

export interface WhatIfDelete {
  digest: string;
  tagsRemoved: string[];
  freedBytes: number;
  note: string;
}

export interface UsageTotals {
  storedBytes?: number;
  storedObjects?: number;
  logicalBytes?: number;
  repositories: RepositorySummary[];
}

export interface LayerSet {
  repository: string;
  digest: string;
  tags: string[];
  layers: { digest: string; size: number }[];
  layersTotal: number;
  index: boolean;
}

export interface SignatureReport {
  signed: boolean;
  judged: boolean;
  signatures: { kind: string; where: string; outcome: string; message?: string; signer?: string }[];
}

export interface GcRun {
  startedAt: number;
  finishedAt: number;
  dryRun: boolean;
  tagsRemoved: number;
  manifestsRemoved: number;
  blobsRemoved: number;
  freedBytes: number;
}

export interface OperationsReport {
  gcRuns: GcRun[];
  gc: { graceMs: number; deleteUntagged: boolean };
  quotas: { namespace: string; limitBytes: number; usedBytes: number }[];
  retention: { repositories: string; keepLast?: number; olderThanMs?: number; keepTags: string[] }[];
  uploads: { id: string; repository: string; bytes: number; owner: string | null; client: string | null; createdAt: string; updatedAt: string }[];
  uploadsTotal: number;
}

export interface DryRunSummary {
  graceMs: number;
  freedBytes: number;
  blobs: number;
  manifests: { repository: string; digest: string; size: number }[];
  manifestsTotal: number;
  retention: { repository: string; tag: string; digest: string }[];
  retentionTotal: number;
}
