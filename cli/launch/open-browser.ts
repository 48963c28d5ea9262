import { spawn } from 'node:child_process';

/** The command that opens a URL in the default browser on each platform. */
export function browserCommand(url: string, platform: NodeJS.Platform): { file: string; args: string[] } {
  // rundll32 takes the URL as one argument; "cmd /c start" would need & and ^ escaped.
  if (platform === 'win32') return { file: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (platform === 'darwin') return { file: 'open', args: [url] };
  return { file: 'xdg-open', args: [url] };
}

/** Opens `url` and never fails: a machine without a browser (a server) just shows the address. */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  const { file, args } = browserCommand(url, platform);
  return new Promise((resolve) => {
    try {
      const child = spawn(file, args, { stdio: 'ignore', detached: true, windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
