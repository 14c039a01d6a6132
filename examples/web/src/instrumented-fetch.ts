/**
 * What a browser's tracing and request-id instrumentation adds to every request (OpenTelemetry's fetch
 * instrumentation, Sentry, an interceptor of your own): a W3C `traceparent` and an `x-request-id`. The API
 * allows both in its CORS preflight and exposes `x-request-id` on the answer, so the page can show the id a
 * support ticket should quote.
 */
const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

export function instrumentedFetch(onAnswer: (requestId: string | null) => void): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('traceparent', `00-${hex(16)}-${hex(8)}-01`);
    headers.set('x-request-id', `web-${crypto.randomUUID()}`);
    const response = await fetch(input, { ...init, headers });
    onAnswer(response.headers.get('x-request-id'));
    return response;
  };
}
