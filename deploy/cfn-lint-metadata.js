// Why this file: the packaged template must pass cfn-lint with no error and no unexplained warning
// (tests/deploy/package.test.ts, docs/deploy.md). What cfn-lint still warns about comes from the
// framework, not from serverless.yml: osls gives every function a DependsOn on its role, every HTTP API
// route one on its integration, and the API stage one on its access-log group, although each of those
// resources already names the other with Fn::GetAtt or Ref, which orders the deployment just the same.
// cfn-lint reports each such DependsOn as W3005 ("dependency already enforced"); it is harmless, and
// serverless.yml cannot remove it. This local plugin marks exactly those resources, and nothing else,
// with Metadata that tells cfn-lint to skip W3005 there, and writes the reason beside it in the
// template.
'use strict';

const REASONS = {
  W3005:
    'DependsOn written by the Serverless Framework (osls) on a resource that already references its ' +
    'target with Fn::GetAtt or Ref: the same order twice, harmless; serverless.yml cannot remove it.',
};

/** Logical ids a value names with Ref or Fn::GetAtt, anywhere inside it. */
const referencedIds = (value, found = new Set()) => {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      if (key === 'Fn::GetAtt') found.add(Array.isArray(inner) ? String(inner[0]) : String(inner).split('.')[0]);
      referencedIds(inner, found);
    }
  }
  return found;
};

/** Adds the W3005 exception, with its reason, to every resource whose DependsOn repeats a reference. */
const markRedundantDependsOn = (template) => {
  for (const resource of Object.values(template.Resources ?? {})) {
    const dependsOn = [resource.DependsOn ?? []].flat();
    const referenced = referencedIds(resource.Properties ?? {});
    if (!dependsOn.some((id) => referenced.has(id))) continue;
    const metadata = resource.Metadata ?? {};
    const checks = metadata['cfn-lint']?.config?.ignore_checks ?? [];
    resource.Metadata = {
      ...metadata,
      'cfn-lint': { ...metadata['cfn-lint'], config: { ...metadata['cfn-lint']?.config, ignore_checks: [...new Set([...checks, 'W3005'])] } },
      'cfn-lint-reasons': { ...metadata['cfn-lint-reasons'], W3005: REASONS.W3005 },
    };
  }
};

class CfnLintMetadata {
  constructor(serverless) {
    this.hooks = {
      // The framework has compiled the functions and their events by now, and has not yet merged
      // serverless.yml `resources` into the template: only its own resources are looked at.
      'before:package:finalize': () => markRedundantDependsOn(serverless.service.provider.compiledCloudFormationTemplate),
    };
  }
}

module.exports = CfnLintMetadata;
module.exports.markRedundantDependsOn = markRedundantDependsOn;
