/**
 * The dashboard's defences: which Host headers it answers (DNS rebinding), the token that guards it
 * off loopback, and the headers every response carries (CSP, nosniff, no framing, no CORS).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The cookie's name carries the port: cookies are not kept apart by port, and two dashboards on one host must not overwrite each other's. */
export const cookieName = (port: number): string => `swarm_dashboard_${port}`;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Strips IPv6 brackets and lower-cases: the form host names are compared in. */
export const bareHost = (host: string): string => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');

export function isLoopback(host: string): boolean {
  const h = bareHost(host);
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const isWildcard = (host: string) => ['0.0.0.0', '::', ''].includes(bareHost(host));

/**
 * Whether a request's Host header names this server. A page on another site whose name an
 * attacker re-points at 127.0.0.1 sends its own name here and is refused. Bound to every
 * interface, the names are unknown; the token (required there) is what guards it.
 */
export function hostAllowed(header: string | undefined, bound: string): boolean {
  if (!header) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim());
  if (!m) return false;
  const name = bareHost(m[1]!);
  if (isWildcard(bound)) return true;
  return name === bareHost(bound) || LOOPBACK_NAMES.has(name);
}

export const newToken = (): string => randomBytes(24).toString('base64url');

/** Constant-time comparison: both sides are hashed first so that their lengths do not leak either. */
export function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage, port: number): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name !== cookieName(port)) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return null;
    }
  }
  return null;
}

function bearerToken(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1]! : null;
}

/** 'ok', 'login' (a right ?token= that the caller turns into a cookie), or 'denied'. */
export function authorize(req: IncomingMessage, url: URL, token: string | null, port: number): 'ok' | 'login' | 'denied' {
  if (token === null) return 'ok';
  if (tokenMatches(bearerToken(req), token) || tokenMatches(cookieToken(req, port), token)) return 'ok';
  return tokenMatches(url.searchParams.get('token'), token) ? 'login' : 'denied';
}

export function loginCookie(token: string, port: number): string {
  return `${cookieName(port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Headers on every response. No Access-Control-* header is ever sent: other origins cannot read anything. */
export function secureHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
