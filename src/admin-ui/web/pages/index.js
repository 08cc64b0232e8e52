// @ts-check
// Every page module of the console, in no particular order (nav.order sorts the menu). They are
// loaded one by one so that a page that fails to load leaves the others working.
export const PAGE_FILES = [
  './login.js', './dashboard.js', './users.js', './user.js', './account.js', './operators.js',
  './certificates.js', './certificate.js', './issue.js', './lost-device.js', './nas.js', './policies.js',
  './directory.js', './ca.js', './auth-log.js', './audit.js',
];

/** @returns {Promise<any[]>} the modules that loaded */
export async function loadPages() {
  const results = await Promise.allSettled(PAGE_FILES.map((f) => import(f)));
  const pages = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') pages.push(r.value);
    // In the browser the console is the only place a failed import can be told; the pages that loaded still work.
    else console.warn(`page ${PAGE_FILES[i]} did not load`, r.reason);
  });
  return pages;
}
