// Server host name check for profile fields: DNS names, IPv4, IPv6 (bare or in brackets), localhost. Pure, so it is unit-tested.
import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Why `value` is not a usable server host name, or null when it is. */
export function hostError(value: string): string | null {
  const v = value.trim();
  if (!v) return 'Enter a server name, for example imap.gmail.com';
  if (/\s/.test(v)) return 'A server name cannot contain spaces';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v))
    return 'Enter only the server name, without imap://, https:// or another scheme';
  if (/[/?#\\@]/.test(v)) return 'Enter only the server name, without a path, user name or query';
  if (v.length > 253) return 'A server name is at most 253 characters';
  if (v.startsWith('[') || v.endsWith(']')) {
    return v.startsWith('[') && v.endsWith(']') && isIPv6(v.slice(1, -1))
      ? null
      : 'Enter a valid IPv6 address, for example [2001:db8::1]';
  }
  if (v.includes(':')) {
    if (isIPv6(v)) return null;
    return /^[^:]+:\d+$/.test(v)
      ? 'Enter the port in its own field, not after the server name'
      : 'Enter a valid server name or IP address';
  }
  if (/^[\d.]+$/.test(v)) return isIPv4(v) ? null : 'Enter a valid IPv4 address, for example 192.0.2.10';
  const labels = (v.endsWith('.') ? v.slice(0, -1) : v).split('.');
  if (!labels.every((l) => LABEL.test(l)))
    return 'Enter a valid server name: letters, digits, hyphens and dots, for example imap.gmail.com';
  if (/^\d+$/.test(labels[labels.length - 1])) return 'Enter a valid server name or IP address';
  return null;
}
