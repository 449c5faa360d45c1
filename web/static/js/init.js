// Start the GOV.UK Frontend components on the page (loaded as a module from 'self').
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

initAll();
