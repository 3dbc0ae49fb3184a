/**
 * URL handling shared by the HTTP sources. People configure sources as `http://user:pw@host:port`,
 * but fetch refuses a URL that carries credentials ("Request cannot be constructed from a URL that
 * includes credentials"), so the userinfo has to travel as an `Authorization` header instead.
 */

export interface UrlCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * A copy of `url` without its userinfo, and the userinfo percent-decoded (`p%40ss` is `p@ss`), or
 * no credentials when the URL has none. Throws a URIError on a malformed escape such as `%zz`.
 */
export function splitUrlCredentials(url: URL): { url: URL; credentials?: UrlCredentials } {
  const bare = new URL(url.href);
  if (bare.username === '' && bare.password === '') return { url: bare };
  const credentials = {
    username: decodeURIComponent(bare.username),
    password: decodeURIComponent(bare.password),
  };
  bare.username = '';
  bare.password = '';
  return { url: bare, credentials };
}

/** The `Authorization` header value for HTTP basic auth (RFC 7617). */
export function basicAuthorization(c: UrlCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
