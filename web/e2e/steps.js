/** The end-to-end runs' steps: each prints its name, then ok with its time, or FAILED. */
export const steps = [];

export async function step(name, fn) {
  const started = Date.now();
  process.stdout.write(`• ${name} … `);
  try {
    await fn();
  } catch (error) {
    process.stdout.write("FAILED\n");
    throw error;
  }
  steps.push(name);
  process.stdout.write(`ok (${Date.now() - started} ms)\n`);
}
