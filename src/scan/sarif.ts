import { SarifBuilder, SarifResultBuilder, SarifRuleBuilder, SarifRunBuilder } from 'node-sarif-builder';
import type { ScanReport } from './report.js';
import type { Severity } from './severity.js';
import { TOOL } from './sbom/subject.js';
import { secretWhere } from './secret-text.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { CRITICAL: 'error', HIGH: 'error', MEDIUM: 'warning', LOW: 'note', UNKNOWN: 'note' };

/** SARIF 2.1.0 (node-sarif-builder), for code-scanning dashboards: one rule per advisory or secret rule, one result per finding. */
export function sarifOf(report: ScanReport): string {
  const run = new SarifRunBuilder().initSimple({ toolDriverName: TOOL.name, toolDriverVersion: TOOL.version });
  const rules = new Set<string>();
  const rule = (id: string, text: string, helpUri?: string) => {
    if (rules.has(id)) return;
    rules.add(id);
    run.addRule(new SarifRuleBuilder().initSimple({ ruleId: id, shortDescriptionText: text || id, ...(helpUri ? { helpUri } : {}) }));
  };
  for (const target of report.results) {
    for (const v of target.vulnerabilities) {
      rule(v.id, v.title, v.url);
      run.addResult(
        new SarifResultBuilder().initSimple({
          ruleId: v.id,
          level: LEVEL[v.severity],
          messageText: `${v.package.name} ${v.installed} is affected by ${v.id} (${v.severity})${v.fixed ? `; fixed in ${v.fixed}` : '; no fix yet'}. Layer ${v.package.layer}, ${report.artifact.name}`,
          fileUri: v.package.path,
        }),
      );
    }
  }
  for (const s of report.secrets) {
    rule(s.rule, s.title);
    run.addResult(
      new SarifResultBuilder().initSimple({
        ruleId: s.rule,
        level: LEVEL[s.severity],
        messageText: `${s.title}: ${secretWhere(s)}. ${s.excerpt}`,
        ...(s.layer !== undefined ? { fileUri: s.target, startLine: s.line } : { fileUri: 'image-config.json' }),
      }),
    );
  }
  const log = new SarifBuilder();
  log.addRun(run);
  return log.buildSarifJsonString({ indent: true });
}
