// One TLS secure context per extra CA, shared by every probe connection: given `ca`, Node builds a new context
// with its own certificate store on every connect (~0.8 ms of CPU each, bench/README.md).
import tls from 'node:tls';

const contexts = new Map<string | Buffer, tls.SecureContext>();

/**
 * tls.connect options that trust Node's root certificates plus `ca` (like NODE_EXTRA_CA_CERTS), so a private
 * CA for one server does not break the others (imap.gmail.com keeps its public chain); {} when there is no `ca`.
 */
export function trustOptions(ca?: string | Buffer): { secureContext?: tls.SecureContext } {
  if (!ca) return {};
  let context = contexts.get(ca);
  if (!context) {
    if (contexts.size >= 8) contexts.clear(); // in practice one CA (MAIL_TLS_CA_FILE); never grow without bound
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, String(ca)] });
    contexts.set(ca, context);
  }
  return { secureContext: context };
}
