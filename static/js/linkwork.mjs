// Initialise NHS.UK frontend components (character count, conditional radios, error summary focus, header menu)
// and keep drafts of long notes.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";
import { keepDrafts } from "./drafts.mjs";

initAll();
keepDrafts();
