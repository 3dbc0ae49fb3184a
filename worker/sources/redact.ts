/**
 * Secrets out of everything a source or the CLI prints. People configure sources as
 * `http://user:password@host/…` or with a token in the query string (`?token=`, `api_key=`, a
 * presigned `X-Amz-Signature`), and those URLs end up in errors, warnings and CLI output — and
 * from there in terminals, CI logs and the store. Every message that embeds a URL goes through
 * here; the URL actually requested keeps its secrets.
 */

/** Query parameters whose value is a secret (matched case-insensitively on the name). */
const SECRET_PARAM =
  /token|secret|passw|pwd|api[-_]?key|^key$|signature|^sig$|credential|^auth|session/i;

const MASK = '***';

/**
 * `url` with its password (or a lone username, often a token) and secret query values replaced
 * by `***`; unchanged, character for character, when it holds neither. What does not parse as a
 * URL is redacted by pattern.
 */
export function redactUrl(url: string | URL): string {
  const raw = String(url);
  // `user:password@host` without a scheme parses as the scheme `user:`: only patterns help.
  if (!raw.includes('://')) return redactByPattern(raw);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return redactByPattern(raw);
  }
  const secretParams = [...parsed.searchParams.keys()].some((k) => SECRET_PARAM.test(k));
  if (parsed.username === '' && parsed.password === '' && !secretParams) return raw;
  if (parsed.password !== '') parsed.password = MASK;
  else if (parsed.username !== '') parsed.username = MASK;
  if (secretParams) {
    const params = new URLSearchParams();
    for (const [k, v] of parsed.searchParams) params.append(k, SECRET_PARAM.test(k) ? MASK : v);
    parsed.search = params.toString();
  }
  // `***` is percent-encoded in userinfo; show it as typed.
  return parsed.href.replaceAll('%2A%2A%2A', MASK);
}

/** Scheme-prefixed URLs inside free text (an error message, a comma-separated list). */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>,]+/gi;
/** Userinfo: after `//`, or at the start of a scheme-less `user:password@host`. */
const USERINFO = /(\/\/|^)[^/\s@]*@/g;
/** `name=value` pairs of a query string. */
const PARAM_PAIR = /([?&;]([^=&\s#]+)=)([^&\s#]*)/g;

function redactByPattern(raw: string): string {
  return raw
    .replace(USERINFO, `$1${MASK}@`)
    .replace(PARAM_PAIR, (pair, head: string, name: string) =>
      SECRET_PARAM.test(name) ? `${head}${MASK}` : pair,
    );
}

/** `text` with every URL in it redacted as {@link redactUrl} does; the rest unchanged. */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (raw) => redactUrl(raw));
}
