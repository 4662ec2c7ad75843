import * as CDX from '@cyclonedx/cyclonedx-library';
import type { Inventory } from '../inventory.js';
import { OS_TARGETS, type Package } from '../package.js';
import { isSpdxExpression } from './license.js';
import { imagePurl, TOOL, type SbomSubject } from './subject.js';

export const CYCLONEDX_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

const licenseFactory = new CDX.Contrib.License.Factories.LicenseFactory((e: string) => {
  if (!isSpdxExpression(e)) throw new RangeError(`not an SPDX expression: ${e}`);
});

/**
 * CycloneDX 1.6 JSON through the CycloneDX library: the image as the
 * metadata component, the OS as an operating-system component, every
 * package a library with its purl, licences and the layer (index and
 * digest) that added it, as `berth:layer` properties.
 */
export function cycloneDx(inventory: Inventory, subject: SbomSubject, now = new Date()): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.timestamp = now;
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, TOOL.name, { group: TOOL.vendor, version: TOOL.version }));
  const image = new CDX.Models.Component(CDX.Enums.ComponentType.Container, subject.name, {
    version: subject.digest,
    bomRef: imagePurl(subject),
    purl: imagePurl(subject),
  });
  bom.metadata.component = image;
  if (inventory.os) {
    bom.components.add(
      new CDX.Models.Component(CDX.Enums.ComponentType.OperatingSystem, inventory.os.family, { version: inventory.os.version, bomRef: `os:${inventory.os.family}@${inventory.os.version}`, description: inventory.os.name }),
    );
  }
  // One component per purl; a package found in several places (node_modules and a lock file) lists each.
  const byPurl = new Map<string, CDX.Models.Component>();
  for (const target of inventory.targets) {
    for (const pkg of target.packages) {
      let c = byPurl.get(pkg.purl);
      if (!c) {
        byPurl.set(pkg.purl, (c = componentOf(pkg, inventory)));
        if (OS_TARGETS.has(target.kind) && pkg.source) c.properties.add(new CDX.Models.Property('berth:source-package', `${pkg.source.name} ${pkg.source.version}`));
        bom.components.add(c);
        image.dependencies.add(c.bomRef);
      } else {
        c.properties.add(new CDX.Models.Property('berth:path', pkg.path));
      }
      c.properties.add(new CDX.Models.Property('berth:target', target.name));
    }
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

function componentOf(pkg: Package, inventory: Inventory): CDX.Models.Component {
  const c = new CDX.Models.Component(CDX.Enums.ComponentType.Library, pkg.name, {
    version: pkg.version,
    bomRef: pkg.purl,
    purl: pkg.purl,
    ...(pkg.namespace && pkg.type !== 'deb' && pkg.type !== 'apk' && pkg.type !== 'rpm' ? { group: pkg.namespace } : {}),
  });
  // An expression must stand alone in CycloneDX; several licences are listed one by one.
  if (pkg.licenses.length === 1) c.licenses.add(licenseFactory.makeFromString(pkg.licenses[0]!));
  else for (const l of pkg.licenses) c.licenses.add(licenseFactory.makeDisjunctive(l));
  const layer = inventory.layers[pkg.layer - 1];
  c.properties.add(new CDX.Models.Property('berth:layer', String(pkg.layer)));
  if (layer) c.properties.add(new CDX.Models.Property('berth:layer-digest', layer.digest));
  c.properties.add(new CDX.Models.Property('berth:path', pkg.path));
  return c;
}
