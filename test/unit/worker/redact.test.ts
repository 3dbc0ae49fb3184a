import { describe, expect, it } from 'vitest';
import { describeFetchError } from '../../../worker/sources/fetch-error.js';
import { redactText, redactUrl } from '../../../worker/sources/redact.js';

describe('redactUrl', () => {
  it.each([
    ['http://user:secret@h:9090/metrics', 'http://user:***@h:9090/metrics'],
    ['http://user:p%40ss@h/', 'http://user:***@h/'],
    // A lone username is usually a token.
    ['https://ghp_secret@h/x', 'https://***@h/x'],
    ['http://h/m?token=secret&job=x', 'http://h/m?token=***&job=x'],
    ['http://h/m?access_token=secret', 'http://h/m?access_token=***'],
    ['http://h/m?api_key=secret&apikey=secret', 'http://h/m?api_key=***&apikey=***'],
    [
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2Fsecret&X-Amz-Signature=secret&X-Amz-Security-Token=secret&x=1',
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***&x=1',
    ],
    // Nothing secret: unchanged, character for character (no trailing slash added).
    ['http://prometheus:9090', 'http://prometheus:9090'],
    ['http://h/q?query=up&time=1', 'http://h/q?query=up&time=1'],
    // Unparseable or scheme-less: by pattern.
    ['http://user:secret@[::1', 'http://***@[::1'],
    ['user:secret@host:9090', '***@host:9090'],
    ['http://h:99999/x?token=secret', 'http://h:99999/x?token=***'],
  ])('%s → %s', (raw, expected) => {
    expect(redactUrl(raw)).toBe(expected);
    expect(redactUrl(raw)).not.toMatch(/secret/);
  });
});

describe('redactText', () => {
  it('redacts every URL in a message and leaves the words alone', () => {
    expect(
      redactText(
        'scrape of http://u:secret@a:1/metrics failed: Request cannot be constructed from a URL that includes credentials: http://u:secret@a:1/metrics',
      ),
    ).toBe(
      'scrape of http://u:***@a:1/metrics failed: Request cannot be constructed from a URL that includes credentials: http://u:***@a:1/metrics',
    );
    expect(redactText('a,http://x:secret@h/m,http://h/m?token=secret')).toBe(
      'a,http://x:***@h/m,http://h/m?token=***',
    );
  });

  it('describeFetchError never repeats credentials from the error it describes', () => {
    const e = new TypeError(
      'Request cannot be constructed from a URL that includes credentials: http://u:secret@h/m',
    );
    expect(describeFetchError(e, 1000, 'h')).not.toMatch(/secret/);
    const wrapped = Object.assign(new TypeError('fetch failed'), {
      cause: { message: 'bad http://u:secret@h/m' },
    });
    expect(describeFetchError(wrapped, 1000, 'h')).toBe('cannot reach h: bad http://u:***@h/m');
  });
});
