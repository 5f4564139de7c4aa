/** The login form (a console with a token): nothing of the portal shows before it. */
import { html } from './html.js';
import { BASE } from './layout.js';

export function loginPage(csrf: string, next: string, failed: boolean): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="same-origin">
<title>Log in · b24-rules</title><link rel="stylesheet" href="${BASE}/assets/console.css"></head>
<body class="login">
<main>
<h1>b24-rules console</h1>
${failed ? html`<p class="error" role="alert">That is not the console token.</p>` : ''}
<form method="post" action="${BASE}/login" id="login">
<input type="hidden" name="_csrf" value="${csrf}">
<input type="hidden" name="next" value="${next}">
<label>Console token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form>
<p class="muted small">The token is B24_RULES_CONSOLE_TOKEN (or the --console-token-file file) of the daemon.</p>
</main>
</body>
</html>
`.text;
}
