import { runCli } from './cli';

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`skein: ${err.message}\n`);
    process.exitCode = 1;
  },
);
