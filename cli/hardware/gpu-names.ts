/**
 * Compute capability by GPU name, for drivers older than R510 whose nvidia-smi rejects the
 * `compute_cap` query field. Source: NVIDIA's "CUDA GPUs – Compute Capability" list
 * (developer.nvidia.com/cuda-gpus) and the chip of each product (PCI ID names such as
 * "GM108M [GeForce 930M]"). First match wins, so narrower patterns come first: the GeForce
 * 920M is a Kepler GK208 while the 920MX is a Maxwell GM108.
 */
const NAME_TO_CC: ReadonlyArray<readonly [RegExp, string]> = [
  // Blackwell
  [/\bRTX 50[5-9]0\b|\bRTX PRO \d{4}\b.*Blackwell/i, '12.0'],
  [/\bGB10\b|\bDGX Spark\b/i, '12.1'],
  [/\bB[12]00\b|\bGB[23]00\b/i, '10.0'],
  // Hopper
  [/\bG?H[12]00\b|\bH800\b|\bH20\b/i, '9.0'],
  // Ada
  [/\bRTX 40[5-9]0\b|\bRTX \d{4}(?: SFF)? Ada\b|\bL40S?\b|\bL4\b|\bL20\b/i, '8.9'],
  // Ampere
  [/\bA100\b|\bA800\b|\bA30\b/i, '8.0'],
  [/\bRTX 30[5-9]0\b|\bRTX 2050\b|\bRTX A\d{3,4}\b|\bA[1-4]0\b|\bA16\b|\bA2\b|\bMX570\b/i, '8.6'],
  // Turing
  [/\bRTX 20[6-8]0\b|\bGTX 16[5-6]0\b|\bTITAN RTX\b|\bQuadro RTX\b|\bT4\b|\bT(?:400|500|550|600|1000|1200)\b|\bMX[45]50\b/i, '7.5'],
  // Volta
  [/\bV100\b|\bTITAN V\b|\bGV100\b/i, '7.0'],
  // Maxwell big chips (GM20x) before Pascal, so "GTX TITAN X" is not taken for the Pascal "TITAN X"
  [/\bGTX TITAN X\b|\bGTX 9[5-8]0(?: Ti)?\b|\bGTX 9(?:65|70|80)M\b|\bM[46]0\b|\bQuadro M[456]000\b/i, '5.2'],
  // Pascal
  [/\bP100\b|\bGP100\b/i, '6.0'],
  [/\bGTX 10[5-8]0\b|\bGT 1030\b|\bTITAN Xp?\b|\bTesla P4\b|\bP40\b|\bQuadro P\d{3,4}\b|\bMX(?:150|230|250|330|350)\b/i, '6.1'],
  // Maxwell small chips (GM107/GM108)
  [/\bGTX 750(?: Ti)?\b|\bGTX 9[56]0M\b|\bGTX 8[56]0M\b|\b(?:920MX|930MX?|940MX?|945M|830M|840M|845M)\b|\bMX1[13]0\b|\bQuadro M\d{3,4}M?\b|\bQuadro K[12]200\b|\bNVS 810\b/i, '5.0'],
  // Kepler
  [/\bK80\b/i, '3.7'],
  [/\bK40\b|\bK20X?\b|\bGTX TITAN(?: Black| Z)?\b|\bGTX 780(?: Ti)?\b|\bGT 7[1-4]0\b|\b920M\b/i, '3.5'],
  [/\bGTX 6[5-9]0(?: Ti)?\b|\bGTX 7[67]0\b|\bK10\b|\bGRID K[12]\b/i, '3.0'],
];

/** "8.6" for "NVIDIA GeForce RTX 3060"; null when the name is not in the table. */
export function computeCapabilityFromName(name: string): string | null {
  for (const [pattern, cc] of NAME_TO_CC) {
    if (pattern.test(name)) return cc;
  }
  return null;
}
