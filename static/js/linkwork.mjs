// Initialise NHS.UK frontend components (character count, conditional radios, error summary focus, header menu).
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

initAll();
