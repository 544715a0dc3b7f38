import type { PageProps } from "../lib/web/types.ts";

/** Not-found page (status 404). */
export default function NotFound({ url }: PageProps) {
  return (
    <main>
      <h1>404: not found</h1>
      <p>
        Nothing at <code>{url.pathname}</code>. <a href="/">Back to the dashboard</a>
      </p>
    </main>
  );
}
