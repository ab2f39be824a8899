// Initialise NHS.UK frontend components (character count, conditional radios, error summary focus, header menu)
// and keep drafts of long notes.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";
import { keepDrafts } from "./drafts.mjs";
import { watchSession } from "./session-timeout.mjs";

initAll();
keepDrafts();
watchSession();
