// ESLint (flat config) for JXC's own browser scripts, app/static/jxc/**/*.js: plain scripts loaded by
// <script src>, no build step, no modules. `make lint` runs it from the repository root:
//   frontend/node_modules/.bin/eslint -c frontend/eslint.config.mjs app/static/jxc
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["app/static/jxc/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020, // BigInt; no later syntax, so older Chromium-based browsers (WPS, 360) run it
      sourceType: "script",
      globals: { ...globals.browser, Tabulator: "readonly", Papa: "readonly", echarts: "readonly" },
    },
    rules: {
      strict: ["error", "function"],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "off",
      "no-implicit-globals": "error",
      "no-unused-vars": ["error", { args: "after-used" }],
      "no-shadow": "error",
      curly: ["error", "all"],
    },
  },
];
