// Mutable state shared by the fake's handlers: the store plus the test controls.
import type { ConsentMode, FakeGoogleStats, NextAuthorization } from './types.ts';
import type { Store } from './store.ts';

/** A validated authorization request waiting for the consent page's answer. */
export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  state: string;
  scopes: string[];
  challenge: string;
  offline: boolean;
  prompt: Set<string>;
  loginHint?: string;
  nonce?: string;
  includeGranted: boolean;
  createdAt: number;
}

export interface Ctx {
  store: Store;
  consentMode: ConsentMode;
  next: NextAuthorization[];
  lastAuth?: Record<string, string>;
  stats: FakeGoogleStats;
  failures: { remaining: number; status: number };
  tokenDelayMs: number;
  rotate: boolean;
  pending: Map<string, PendingAuthorization>;
  sleep(ms: number): Promise<void>;
}
