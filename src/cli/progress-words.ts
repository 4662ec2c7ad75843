import type { Descriptor } from '../oci/descriptor.js';
import type { BlobStatus } from '../transport/copy.js';

/** What a verb calls each state of a blob on its progress line, as docker and skopeo word them. */
export type BlobWords = Record<BlobStatus, string> & {
  /** What the summary counts. */
  unit: string;
  /** Whether the blob gets a line (docker pull shows layers only; the config travels silently). */
  shows(desc: Descriptor): boolean;
};

const everyBlob = () => true;

export const PULL_WORDS: BlobWords = {
  waiting: 'Waiting',
  transferring: 'Downloading',
  exists: 'Already exists',
  mounted: 'Mounted',
  done: 'Pull complete',
  unit: 'layers',
  shows: (desc) => !desc.mediaType.includes('config'),
};

export const PUSH_WORDS: BlobWords = {
  waiting: 'Preparing',
  transferring: 'Pushing',
  exists: 'Layer already exists',
  mounted: 'Mounted from another repository',
  done: 'Pushed',
  unit: 'blobs',
  shows: everyBlob,
};

export const COPY_WORDS: BlobWords = {
  waiting: 'Waiting',
  transferring: 'Copying',
  exists: 'Skipped: exists',
  mounted: 'Mounted',
  done: 'Done',
  unit: 'blobs',
  shows: everyBlob,
};
