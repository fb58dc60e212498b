// Test & Enable's first two steps: ask the profile's credentials provider (registered by Authenticate Using), and
// report its checks as steps under the provider's own labels. No provider's internals are known here.
import {
  providerFor,
  type CredentialOptions,
  type CredentialProviders,
  type CredentialResult,
} from '../mail/credentials.ts';
import { codedFailStep, skipStep, okStep, STEP } from '../mail/steps.ts';
import type { Step } from '../mail/types.ts';
import type { Credentials, RunEnv } from './run.ts';

export function credentialSteps(labels: Record<'token' | 'account', string>, r: CredentialResult): Step[] {
  const steps = r.passed.map((p) => (p.status === 'ok' ? okStep : skipStep)(STEP[p.check], labels[p.check], p.message));
  if (!r.ok)
    steps.push(
      codedFailStep(
        STEP[r.failure.check],
        labels[r.failure.check],
        r.failure.code,
        r.failure.message,
        r.failure.hint,
        r.failure.transient,
      ),
    );
  return steps;
}

export function credentialsFor(providers: CredentialProviders): RunEnv['credentials'] {
  return async (mb, opts?: CredentialOptions): Promise<Credentials> => {
    const provider = providerFor(providers, mb.profile);
    const r = await provider.credentials(mb, opts);
    const steps = credentialSteps(provider.labels, r);
    return r.ok ? { ok: true, auth: r.auth, steps, cached: r.cached } : { ok: false, steps };
  };
}
