/** The end-to-end runs' steps: each prints its name, then ok with its time, or FAILED. */
export const steps = [];

/** Browser contexts at phone size: after every step none of their pages scrolls sideways. */
const phones = [];

export function atPhoneWidth(context) {
  phones.push(context);
}

/** Every page of the app open at phone size fits its viewport's width (390 px). */
async function noSidewaysScroll(name) {
  for (const context of phones) {
    for (const page of context.pages()) {
      const url = page.url();
      if (page.isClosed() || !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) {
        continue; // a quick exit's neutral site, or a blank tab: not this app
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 0);
      const allowed = page.viewportSize()?.width ?? 390;
      if (width > allowed) {
        throw new Error(`after "${name}": ${url} scrolls sideways at phone width (${width}px > ${allowed}px)`);
      }
    }
  }
}

export async function step(name, fn) {
  const started = Date.now();
  process.stdout.write(`• ${name} … `);
  try {
    await fn();
    await noSidewaysScroll(name);
  } catch (error) {
    process.stdout.write("FAILED\n");
    throw error;
  }
  steps.push(name);
  process.stdout.write(`ok (${Date.now() - started} ms)\n`);
}
