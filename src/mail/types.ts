// Shared shapes of the Test & Enable Mailbox probes: steps they report and the options they take.
export type StepStatus = 'ok' | 'fail' | 'skip';

export interface Step {
  id: string;
  label: string;
  status: StepStatus;
  code?: string;
  message?: string;
  hint?: string;
  transient?: boolean;
}

export type MailAuth =
  | { kind: 'xoauth2'; user: string; accessToken: string }
  | { kind: 'password'; user: string; password: string };

export interface Endpoint {
  host: string;
  port: number;
  secure: boolean; // implicit TLS
  starttls?: boolean;
}

export interface ProbeOptions {
  endpoint: Endpoint;
  auth: MailAuth;
  ca?: string | Buffer;
  connectTimeoutMs?: number; // default 15000: connect + greeting
  totalTimeoutMs?: number; // default 30000
  signal?: AbortSignal;
  /** Outgoing protocols: also send a test message to this address. */
  sendTestMessageTo?: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
export const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;
