/**
 * What real tools print, for the fake executables and the parser tests. Each block says where
 * it was seen; values that depend on the moment (free memory, temperatures) are as quoted, or
 * total minus the "Memory-Usage" the same source shows.
 */

// ---- nvidia-smi banners --------------------------------------------------------------------

/** Driver R470, old table layout; a 2 GB Maxwell laptop GPU (GM108, 2004 MiB). Public setup script for sm_50 with CUDA 11.4, 2025. */
export const BANNER_470 = `Fri May  2 14:38:05 2025
+-----------------------------------------------------------------------------+
| NVIDIA-SMI 470.256.02   Driver Version: 470.256.02   CUDA Version: 11.4     |
|-------------------------------+----------------------+----------------------+
| GPU  Name        Persistence-M| Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp  Perf  Pwr:Usage/Cap|         Memory-Usage | GPU-Util  Compute M. |
|                               |                      |               MIG M. |
|===============================+======================+======================|
|   0  NVIDIA GeForce ...  Off  | 00000000:01:00.0 Off |                  N/A |
| N/A   43C    P8    N/A /  N/A |      3MiB /  2004MiB |      0%      Default |
|                               |                      |                  N/A |
+-------------------------------+----------------------+----------------------+
`;

/** Driver R535, new layout: a GTX 1050 2 GB next to an RTX 4000 SFF Ada 20 GB. Public setup notes (multi-GPU workstation). */
export const BANNER_535_TWO_GPUS = `+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.288.01             Driver Version: 535.288.01   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |
|                                         |                      |               MIG M. |
|=========================================+======================+======================|
|   0  NVIDIA GeForce GTX 1050        On  | 00000000:3B:00.0  On |                  N/A |
| 20%   39C    P8              N/A /  75W |    204MiB /  2048MiB |      0%      Default |
|                                         |                      |                  N/A |
+-----------------------------------------+----------------------+----------------------+
|   1  NVIDIA RTX 4000 SFF Ada ...    On  | 00000000:AF:00.0 Off |                  Off |
| 30%   38C    P8               5W /  70W |    171MiB / 20475MiB |      0%      Default |
|                                         |                      |                  N/A |
+-----------------------------------------+----------------------+----------------------+
`;

/** The same R535 machine's first card alone (its GTX 1050 row). */
export const BANNER_535_GTX1050 = BANNER_535_TWO_GPUS.split('+-----------------------------------------+----------------------+----------------------+\n|   1')[0]!;

/** Driver R550 (CUDA 12.4 GA bundle driver) with an RTX 3060 12 GB; header as printed by 550.x. */
export const BANNER_550 = `+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  NVIDIA GeForce RTX 3060        Off |   00000000:01:00.0  On |                  N/A |
|  0%   46C    P8             15W /  170W |     379MiB /  12288MiB |      1%      Default |
|                                         |                        |                  N/A |
+-----------------------------------------+------------------------+----------------------+
`;

/** Driver R580 (the last branch for Maxwell/Pascal/Volta), which already reports CUDA 13.0. Header from a public PR quoting 580.95.05. */
export const BANNER_580_930M = `+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 580.95.05              Driver Version: 580.95.05      CUDA Version: 13.0     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  NVIDIA GeForce 930M            Off |   00000000:09:00.0 Off |                  N/A |
| N/A   40C    P8            N/A  /  N/A  |      14MiB /   2004MiB |      0%      Default |
|                                         |                        |                  N/A |
+-----------------------------------------+------------------------+----------------------+
`;

/** Captured on this project's H100 test machine (driver R580, November 2026) with `nvidia-smi`. */
export const BANNER_H100_580 = `Thu Nov 26 10:20:39 2026       
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 580.159.04             Driver Version: 580.159.04     CUDA Version: 13.0     |
+-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  NVIDIA H100 80GB HBM3          On  |   00000000:00:06.0 Off |                    0 |
| N/A   36C    P0             95W /  700W |       0MiB /  81559MiB |      0%      Default |
|                                         |                        |             Disabled |
+-----------------------------------------+------------------------+----------------------+

+-----------------------------------------------------------------------------------------+
| Processes:                                                                              |
|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |
|        ID   ID                                                               Usage      |
|=========================================================================================|
|  No running processes found                                                             |
+-----------------------------------------------------------------------------------------+
`;

/** Driver 610 renamed the header fields (KMD / CUDA UMD Version). Quoted in a public sglang issue, 2026 (B200 machine). */
export const BANNER_610 = `Sun Jun  7 08:16:57 2026
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 610.43.02              KMD Version: 610.43.02     CUDA UMD Version: 13.3     |
+-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
`;

/** Before R410 the banner had no CUDA version at all. GTX 1050 2 GB on driver 384.130 (public notes). */
export const BANNER_384 = `Thu Sep  5 09:52:45 2019
+-----------------------------------------------------------------------------+
| NVIDIA-SMI 384.130                Driver Version: 384.130                   |
|-------------------------------+----------------------+----------------------+
|   0  GeForce GTX 1050    Off  | 00000000:01:00.0 Off |                  N/A |
| 20%   35C    P8   ERR! /  75W |    596MiB /  1999MiB |      0%      Default |
+-------------------------------+----------------------+----------------------+
`;

/** nvidia-smi with the kernel module not loaded (exit code 9); the message quoted in countless bug reports. */
export const SMI_DRIVER_NOT_LOADED =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";

/** After a driver upgrade without reboot (exit code 18). */
export const SMI_VERSION_MISMATCH = 'Failed to initialize NVML: Driver/library version mismatch\n';

/** Drivers older than R510 reject the compute_cap field (exit code 2); the wording nvidia-smi uses for any unknown field. */
export const SMI_COMPUTE_CAP_REJECTED = 'Field "compute_cap" is not a valid field to query.\n\n';

// ---- nvidia-smi --query-gpu=index,name,memory.total,memory.free,driver_version,compute_cap,pci.bus_id ----
// Totals are the banners' MiB; free is total minus the banner's usage.

export const QUERY_930M_470_NO_CC = '0, NVIDIA GeForce 930M, 2004, 2001, 470.256.02, 00000000:01:00.0\n';
export const QUERY_930M_580 = '0, NVIDIA GeForce 930M, 2004, 1990, 580.95.05, 5.0, 00000000:09:00.0\n';
export const QUERY_GTX1050_535 = '0, NVIDIA GeForce GTX 1050, 2048, 1844, 535.288.01, 6.1, 00000000:3B:00.0\n';
export const QUERY_TWO_GPUS_535 =
  '0, NVIDIA GeForce GTX 1050, 2048, 1844, 535.288.01, 6.1, 00000000:3B:00.0\n1, NVIDIA RTX 4000 SFF Ada Generation, 20475, 20304, 535.288.01, 8.9, 00000000:AF:00.0\n';
export const QUERY_GTX1050_470_NO_CC = '0, NVIDIA GeForce GTX 1050, 2000, 1650, 470.256.02, 00000000:01:00.0\n';
/** Captured on the same H100 machine, verbatim. */
export const QUERY_H100_580 = '0, NVIDIA H100 80GB HBM3, 81559, 81079, 580.159.04, 9.0, 00000000:00:06.0\n';
export const QUERY_RTX3060_550 = '0, NVIDIA GeForce RTX 3060, 12288, 11909, 550.54.15, 8.6, 00000000:01:00.0\n';

// ---- nvcc --version ---------------------------------------------------------------------

/** CUDA 11.4 Update 4 (Linux), from the same public sm_50 setup script. */
export const NVCC_11_4 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2021 NVIDIA Corporation
Built on Mon_Oct_11_21:27:02_PDT_2021
Cuda compilation tools, release 11.4, V11.4.152
Build cuda_11.4.r11.4/compiler.30521435_0
`;

/** CUDA 12.2 Update 2, as quoted in many setup guides. */
export const NVCC_12_2 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2023 NVIDIA Corporation
Built on Tue_Aug_15_22:02:13_PDT_2023
Cuda compilation tools, release 12.2, V12.2.140
Build cuda_12.2.r12.2/compiler.33191640_0
`;

/** CUDA 12.4 Update 1. */
export const NVCC_12_4 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2024 NVIDIA Corporation
Built on Thu_Mar_28_02:18:24_PDT_2024
Cuda compilation tools, release 12.4, V12.4.131
Build cuda_12.4.r12.4/compiler.34097967_0
`;

/** CUDA 12.9 Update 1. */
export const NVCC_12_9 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2025 NVIDIA Corporation
Built on Tue_May_27_02:21:03_PDT_2025
Cuda compilation tools, release 12.9, V12.9.86
Build cuda_12.9.r12.9/compiler.36037853_0
`;

/** CUDA 13.0 Update 1, identical to this development machine's /usr/local/cuda-13.0. */
export const NVCC_13_0 = `nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2025 NVIDIA Corporation
Built on Wed_Aug_20_01:58:59_PM_PDT_2025
Cuda compilation tools, release 13.0, V13.0.88
Build cuda_13.0.r13.0/compiler.36424714_0
`;

// ---- build tools ------------------------------------------------------------------------

/** Ubuntu 24.04's cmake. */
export const CMAKE_3_28 = `cmake version 3.28.3

CMake suite maintained and supported by Kitware (kitware.com/cmake).
`;

/** Ubuntu 20.04's cmake, older than the 3.18 the engine's CMakeLists.txt requires. */
export const CMAKE_3_16 = `cmake version 3.16.3

CMake suite maintained and supported by Kitware (kitware.com/cmake).
`;

/** Ubuntu 24.04's c++ (GCC 13). */
export const CXX_GCC_13 = `c++ (Ubuntu 13.2.0-23ubuntu4) 13.2.0
Copyright (C) 2023 Free Software Foundation, Inc.
This is free software; see the source for copying conditions.  There is NO
warranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.
`;

/** RHEL 8's default g++ (GCC 8): too old for our minimum. */
export const GXX_GCC_8 = `g++ (GCC) 8.5.0 20210514 (Red Hat 8.5.0-18)
Copyright (C) 2018 Free Software Foundation, Inc.
This is free software; see the source for copying conditions.  There is NO
warranty; not even for MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.
`;

export const CLANG_18 = `Ubuntu clang version 18.1.3 (1ubuntu1)
Target: x86_64-pc-linux-gnu
Thread model: posix
InstalledDir: /usr/bin
`;

export const APPLE_CLANG_15 = `Apple clang version 15.0.0 (clang-1500.3.9.4)
Target: arm64-apple-darwin23.4.0
Thread model: posix
InstalledDir: /Library/Developer/CommandLineTools/usr/bin
`;

/** cl.exe run without arguments prints its banner on stderr (VS 2022 17.8). */
export const MSVC_CL_BANNER = `Microsoft (R) C/C++ Optimizing Compiler Version 19.38.33133 for x64
Copyright (C) Microsoft Corporation.  All rights reserved.

usage: cl [ option... ] filename... [ /link linkoption... ]
`;

export const GNU_MAKE = `GNU Make 4.3
Built for x86_64-pc-linux-gnu
Copyright (C) 1988-2020 Free Software Foundation, Inc.
`;

// ---- lspci -vvv (what systeminformation parses on Linux) ----------------------------------

/** An Acer laptop: Broadwell iGPU plus GeForce 930M (device lines from a public forum post). */
export const LSPCI_LAPTOP_930M = `00:02.0 VGA compatible controller: Intel Corporation Broadwell-U Integrated Graphics (rev 09) (prog-if 00 [VGA controller])
	Subsystem: Acer Incorporated [ALI] Broadwell-U Integrated Graphics
	Kernel driver in use: i915

09:00.0 3D controller: NVIDIA Corporation GM108M [GeForce 930M] (rev a2)
	Subsystem: Acer Incorporated [ALI] GM108M [GeForce 930M]
	Kernel modules: nvidiafb, nouveau, nvidia

`;

/** A desktop with a Radeon RX 570 (device lines from public passthrough guides) and an Intel iGPU. */
export const LSPCI_AMD_INTEL = `00:02.0 VGA compatible controller: Intel Corporation CometLake-S GT2 [UHD Graphics 630] (rev 05) (prog-if 00 [VGA controller])
	Subsystem: ASRock Incorporation CometLake-S GT2 [UHD Graphics 630]
	Kernel driver in use: i915

01:00.0 VGA compatible controller: Advanced Micro Devices, Inc. [AMD/ATI] Ellesmere [Radeon RX 470/480/570/570X/580/580X/590] (rev ef) (prog-if 00 [VGA controller])
	Subsystem: Sapphire Technology Limited Radeon RX 570 Pulse 4GB
	Kernel driver in use: amdgpu

`;

/** A desktop GTX 1050 whose driver is not loaded. */
export const LSPCI_GTX1050 = `01:00.0 VGA compatible controller: NVIDIA Corporation GP107 [GeForce GTX 1050] (rev a1) (prog-if 00 [VGA controller])
	Subsystem: ASUSTeK Computer Inc. GP107 [GeForce GTX 1050]
	Kernel modules: nvidiafb, nouveau, nvidia_drm, nvidia

`;
