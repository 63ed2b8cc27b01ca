/** An endpoint as metrics label it: method and route template. */
export interface Endpoint {
  method: string;
  route: string;
}

export function parseEndpoint(text: string): Endpoint {
  const [method, route] = text.split(' ');
  return { method, route };
}

/**
 * Route templates are spelled `/orders/{order_id}` in plans (OpenAPI style) and often
 * `/orders/:order_id` in metrics (Express style); both name the same route.
 */
export function normalizeRoute(route: string): string {
  return route.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\/+$/, '') || '/';
}

export function endpointKey(method: string, route: string): string {
  return `${method.toUpperCase()} ${normalizeRoute(route)}`;
}
