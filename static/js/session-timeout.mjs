// Idle sign-out warning: sessions end after SESSION_COOKIE_AGE seconds without a request. Two minutes before,
// a notice offers to stay signed in (a keep-alive request renews the session); at the end the person is signed
// out and taken to the sign-in page, so nothing identifiable stays on an unattended screen.
const WARN_BEFORE = 120;

export function watchSession(body = document.body) {
  const seconds = Number(body.dataset.sessionSeconds || 0);
  const keepalive = body.dataset.keepaliveUrl;
  const signin = body.dataset.signinUrl;
  const notice = document.getElementById("session-timeout");
  if (!seconds || !keepalive || !signin || !notice) return;
  // Sign out on the server too (the header's own sign-out form, with its CSRF token), then explain why.
  const signOut = () => {
    const form = document.querySelector("form.nhsuk-header__account-form");
    const next = `${signin}?timed_out=1`;
    if (!form) {
      window.location.assign(next);
      return;
    }
    form.action = `${form.getAttribute("action")}?next=${encodeURIComponent(next)}`;
    form.submit();
  };
  let warnTimer;
  let endTimer;
  const schedule = () => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    notice.hidden = true;
    warnTimer = setTimeout(() => {
      notice.hidden = false;
      notice.querySelector("button").focus();
    }, Math.max(0, seconds - WARN_BEFORE) * 1000);
    endTimer = setTimeout(signOut, seconds * 1000);
  };
  notice.querySelector("button").addEventListener("click", async () => {
    const response = await fetch(keepalive, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    if (response.ok) {
      schedule();
    } else {
      signOut();
    }
  });
  schedule();
}
