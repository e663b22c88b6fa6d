// The `route` label of the HTTP metrics: the template of the Express route that answered
// (`/api/things/:id`), never the raw path, so clients cannot create series at will.

/** Requests that matched no route (404s of unknown paths, body-parser errors, ...). */
export const UNMATCHED = 'unmatched';

/** The parts of an Express request the label is made of, as they are once the response ends. */
export interface RoutedRequest {
  baseUrl?: string;
  route?: { path?: unknown };
}

export function routeLabel(req: RoutedRequest): string {
  const path = req.route?.path;
  // Nest registers each controller route with its absolute template (`/api/health`). Its 404
  // catch-all is a route too, `router.all('*path')` in a router mounted at the global prefix:
  // relative, so it counts as unmatched. A RegExp or array template is not a label either.
  if (typeof path !== 'string' || !path.startsWith('/')) return UNMATCHED;
  const base = req.baseUrl ?? '';
  if (base !== '' && path === '/') return base;
  return `${base}${path}` || '/';
}
