import { createHash, randomUUID } from 'node:crypto';
import type { Inventory } from '../inventory.js';
import { OS_TARGETS, type Package } from '../package.js';
import { spdxExpressionOf } from './license.js';
import { imagePurl, TOOL, type SbomSubject } from './subject.js';

export const SPDX_MEDIA_TYPE = 'application/spdx+json';

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: false;
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: string;
  licenseComments?: string;
  primaryPackagePurpose: 'CONTAINER' | 'OPERATING-SYSTEM' | 'LIBRARY';
  sourceInfo?: string;
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
}

/**
 * SPDX 2.3 JSON: the image is the described package, CONTAINS every
 * package found; each carries its purl as an external reference and the
 * layer it came from in `sourceInfo`. Free-text licences, which are not SPDX
 * expressions, go to `licenseComments` with `licenseDeclared: NOASSERTION`.
 */
export function spdxDocument(inventory: Inventory, subject: SbomSubject, now = new Date()): string {
  const imageId = 'SPDXRef-Image';
  const packages: SpdxPackage[] = [
    {
      SPDXID: imageId,
      name: subject.name,
      versionInfo: subject.digest,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      primaryPackagePurpose: 'CONTAINER',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(subject) }],
    },
  ];
  const relationships = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId }];
  if (inventory.os) {
    packages.push({
      SPDXID: 'SPDXRef-OperatingSystem',
      name: inventory.os.family,
      versionInfo: inventory.os.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      primaryPackagePurpose: 'OPERATING-SYSTEM',
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-OperatingSystem' });
  }
  const seen = new Set<string>();
  for (const target of inventory.targets) {
    for (const pkg of target.packages) {
      if (seen.has(pkg.purl)) continue;
      seen.add(pkg.purl);
      const p = packageOf(pkg, inventory);
      packages.push(p);
      relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID });
      if (OS_TARGETS.has(target.kind) && inventory.os) relationships.push({ spdxElementId: p.SPDXID, relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'SPDXRef-OperatingSystem' });
    }
  }
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: subject.name,
    documentNamespace: `https://spdx.org/spdxdocs/berth/${encodeURIComponent(subject.name)}-${randomUUID()}`,
    creationInfo: { created: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), creators: [`Tool: ${TOOL.name}-${TOOL.version}`, `Organization: ${TOOL.vendor}`] },
    documentDescribes: [imageId],
    packages,
    relationships,
  };
  return JSON.stringify(doc, null, 2);
}

function packageOf(pkg: Package, inventory: Inventory): SpdxPackage {
  const expression = spdxExpressionOf(pkg.licenses);
  const layer = inventory.layers[pkg.layer - 1];
  return {
    // SPDX ids allow letters, digits, '.' and '-': a hash of the purl is unique and stable.
    SPDXID: `SPDXRef-Package-${createHash('sha256').update(pkg.purl).digest('hex').slice(0, 16)}`,
    name: pkg.namespace && pkg.type !== 'deb' && pkg.type !== 'apk' && pkg.type !== 'rpm' ? `${pkg.namespace}/${pkg.name}` : pkg.name,
    versionInfo: pkg.version,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: expression ?? 'NOASSERTION',
    ...(expression === undefined && pkg.licenses.length ? { licenseComments: pkg.licenses.join('; ') } : {}),
    primaryPackagePurpose: 'LIBRARY',
    sourceInfo: `${pkg.path} in layer ${pkg.layer}${layer ? ` (${layer.digest})` : ''}`,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: pkg.purl }],
  };
}
