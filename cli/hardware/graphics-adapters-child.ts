/**
 * Child process of probe-graphics-adapters: prints systeminformation's list of graphics
 * controllers as JSON. It runs apart because systeminformation calls nvidia-smi (and on Linux
 * dmidecode) synchronously without a timeout: a hung driver would freeze the calling process,
 * and only a separate process can be killed at our timeout.
 */
import si from 'systeminformation';

const { controllers } = await si.graphics();
process.stdout.write(
  `${JSON.stringify(controllers.map((c) => ({ vendor: c.vendor, model: c.model, name: c.name ?? null, vram: c.vram })))}\n`,
);
