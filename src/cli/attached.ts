import type { Command } from 'commander';
import type { ImageSink, ImageSource, Manifest } from '../transport/image.js';
import { copiedSubjects, copyAttachments, type AttachmentCopy } from '../transport/referrers.js';

/** `--no-referrers` on copy, pull and push: commander sets `referrers: false`. */
export const noReferrersOption = (cmd: Command): Command =>
  cmd.option('--no-referrers', 'leave signatures, SBOMs and other referrers behind (by default they travel with the image)');

/**
 * After an image copy: brings what is attached to every manifest copied
 * (signatures of both systems, referrers) along, so the image still verifies
 * at the destination. What the destination cannot hold is said on stderr.
 */
export async function copyAttached(src: ImageSource, dst: ImageSink, root: Manifest, wanted: boolean | undefined): Promise<AttachmentCopy | undefined> {
  if (wanted === false || !src.attachments || !dst.attachments) return undefined;
  const report = await copyAttachments(src.attachments(), dst.attachments(), copiedSubjects(root));
  for (const s of report.skipped) process.stderr.write(`warning: not copied: ${s}\n`);
  return report;
}
