#pragma once

/// The node's dashboard: one self-contained HTML page (no external assets)
/// that polls /health, /workers, /queues, /running, /dead-jobs, /runs and /cluster every 3
/// seconds, and shows one job (#job=ID: its progress, output and attempts).
namespace leasehold {

inline constexpr const char* dashboard_html = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>leasehold</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 .3em}h2{font-size:16px;margin:1.4em 0 .4em}
.tiles{display:flex;gap:.8em;flex-wrap:wrap}
.tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}
.tile b{display:block;font-size:22px}
.alert{padding:.5em .8em;border-radius:5px;margin:.3em 0}
.critical{background:#fde2e1;border:1px solid #e57373}
.warning{background:#fff4d6;border:1px solid #f0b429}
.ok{background:#e3f6e8;border:1px solid #5cb85c}
table{border-collapse:collapse;background:#fff;width:100%}
td,th{border:1px solid #ddd;padding:.3em .5em;text-align:left;font-size:13px}
th{background:#f0f0f0}.muted{color:#777}
pre{background:#fff;border:1px solid #ddd;padding:.5em;max-height:20em;overflow:auto;white-space:pre-wrap}
progress{width:8em}
</style></head><body>
<h1>leasehold <span class="muted" id="version"></span></h1>
<div class="muted">node <span id="node"></span> &middot; updated <span id="updated">never</span></div>
<h2>Alerts</h2><div id="alerts"></div>
<h2>Jobs</h2>
<div class="tiles">
<div class="tile">queued<b id="queued-total">-</b></div>
<div class="tile">running<b id="processing-count">-</b></div>
<div class="tile">stuck<b id="stuck-count">-</b></div>
<div class="tile">dead (24h)<b id="dead-24h">-</b></div>
<div class="tile">lag (s)<b id="lag">-</b></div>
<div class="tile">policy violations (24h)<b id="violations">-</b></div>
</div>
<h2>Queues</h2>
<form id="auth"><input id="token" type="password" placeholder="write token, for the buttons" autocomplete="off"> <span id="action" class="muted"></span></form>
<table><thead><tr><th>queue</th><th>state</th><th>due</th><th>scheduled</th><th>running</th><th>limit</th><th>at limit (s)</th><th>other limits</th><th>lag (s)</th><th></th></tr></thead>
<tbody id="queue-states"></tbody></table>
<h2>Queued by type</h2>
<table><thead><tr><th>type</th><th>queued</th></tr></thead><tbody id="queues"></tbody></table>
<h2>Cluster</h2>
<table><thead><tr><th>node</th><th>state</th><th>version</th><th>uptime (s)</th><th>in flight</th><th>claimed ahead</th><th>pool</th><th>claims/s</th><th>done/s</th><th>links up</th><th>failures</th></tr></thead>
<tbody id="cluster"></tbody></table>
<div id="cluster-note" class="muted"></div>
<h2>Workers</h2>
<table><thead><tr><th>worker</th><th>type</th><th>status</th><th>host</th><th>pid</th><th>version</th><th>heartbeat age (s)</th></tr></thead>
<tbody id="workers"></tbody></table>
<h2>Running</h2>
<table><thead><tr><th>id</th><th>type</th><th>attempt</th><th>worker</th><th>held (s)</th><th>progress</th><th>message</th></tr></thead>
<tbody id="running"></tbody></table>
<h2>Job</h2>
<form id="find"><input id="job-id" placeholder="job id" inputmode="numeric"> <button>show</button></form>
<div id="job" class="muted">enter a job id, or pick one above</div>
<h2>Recent dead jobs</h2>
<table><thead><tr><th>id</th><th>type</th><th>reason</th><th>last error</th><th>attempts</th><th>correlation id</th><th>worker</th></tr></thead>
<tbody id="dead-jobs"></tbody></table>
<h2>Runs</h2>
<table><thead><tr><th>run</th><th>type</th><th>label</th><th>status</th><th>expected</th><th>queued</th><th>running</th><th>succeeded</th><th>failed</th></tr></thead>
<tbody id="runs"></tbody></table>
<h2>Supervised failures on this node</h2><div id="failures" class="muted">none</div>
<script>
function esc(s){return String(s==null?'':s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));}
function rows(id,items,cols,link){document.getElementById(id).innerHTML=items.map(i=>'<tr>'+cols.map((c,n)=>'<td>'+(n==0&&link?'<a href="#job='+esc(i.id)+'">'+esc(c(i))+'</a>':esc(c(i)))+'</td>').join('')+'</tr>').join('');}
function json(v){const t=JSON.stringify(v,null,2);return t.length>20000?t.slice(0,20000)+'\n...':t;}
function pct(p){return p?'<progress max="100" value="'+esc(Math.max(0,Math.min(100,p.value)))+'"></progress> '+esc(p.value):'';}
async function showJob(){
  const m=location.hash.match(/^#job=(\d+)$/);if(!m)return;
  document.getElementById('job-id').value=m[1];
  const r=await fetch('/jobs/'+m[1]);const el=document.getElementById('job');
  if(r.status==404){el.textContent='no job '+m[1];return;}
  if(!r.ok){el.textContent='failed: '+r.status;return;}
  const j=await r.json();
  el.className='';
  el.innerHTML='<div id="job-status"><b>#'+esc(j.id)+' '+esc(j.type)+'</b> '+esc(j.status)+', attempt '+esc(j.attempts)+' of '+esc(j.max_attempts)+'</div>'
    +(j.progress?'<div id="job-progress">progress '+pct(j.progress)+' '+esc(j.progress.message)+'</div>':'')
    +(j.output!=null?'<div>output</div><pre id="job-output">'+esc(json(j.output))+'</pre>':'')
    +(j.last_error?'<div>last error: '+esc(j.last_error)+'</div>':'')
    +'<table><thead><tr><th>attempt</th><th>outcome</th><th>worker</th><th>started</th><th>finished</th><th>progress</th><th>error</th><th>output</th></tr></thead><tbody>'
    +j.runs.map(x=>'<tr><td>'+esc(x.attempt)+'</td><td>'+esc(x.outcome||'running')+'</td><td>'+esc(x.worker_id)+'</td><td>'+esc(x.started_at)+'</td><td>'+esc(x.finished_at)+'</td><td>'+pct(x.progress)+(x.progress?' '+esc(x.progress.message):'')+'</td><td>'+esc(x.error)+'</td><td>'+(x.output!=null?'<pre>'+esc(json(x.output))+'</pre>':'')+'</td></tr>').join('')
    +'</tbody></table>';
}
document.getElementById('find').onsubmit=e=>{e.preventDefault();location.hash='job='+document.getElementById('job-id').value.trim();};
window.onhashchange=()=>showJob().catch(e=>set('job','failed: '+e.message));
function set(id,v){document.getElementById(id).textContent=v;}
// The write token stays in this tab (sessionStorage), never in the URL.
const tokenInput=document.getElementById('token');
tokenInput.value=sessionStorage.getItem('leasehold-token')||'';
tokenInput.oninput=()=>sessionStorage.setItem('leasehold-token',tokenInput.value);
document.getElementById('auth').onsubmit=e=>e.preventDefault();
function otherLimits(x){const l=[];
  if(x.per_key!=null)l.push(x.per_key+' per key');
  if(x.rate!=null)l.push(x.rate+' per '+x.rate_period_seconds+' s (burst '+x.burst+'), now '+(x.started_per_second==null?0:x.started_per_second)+'/s');
  return l.join('; ');}
async function queueAction(q,what){
  const r=await fetch('/queues/'+encodeURIComponent(q)+'/'+what,{method:'POST',headers:{'Authorization':'Bearer '+tokenInput.value}});
  set('action',r.ok?'queue '+q+': '+what+'d':r.status==401||r.status==403?'the token was refused ('+r.status+')':'failed: '+r.status);
  await refresh();
}
// Live from every node over the cluster links (GET /cluster), apart from
// the rest: a node whose links are off still shows its other panels.
async function refreshCluster(){
  const r=await fetch('/cluster');
  if(!r.ok){document.getElementById('cluster').innerHTML='';
    set('cluster-note',r.status==503?'cluster links are off on this node':'cluster view failed: '+r.status);return;}
  const c=await r.json();
  const live=(x,f)=>x.reachable?f(x):'';
  rows('cluster',c.nodes,[x=>x.worker_id,x=>x.reachable?'reachable':'unreachable: '+x.state+(x.reason?' ('+x.reason+')':''),
    x=>live(x,x=>x.version),x=>live(x,x=>Math.round(x.uptime_ms/1000)),x=>live(x,x=>x.in_flight),x=>live(x,x=>x.prefetched),
    x=>live(x,x=>x.pool.busy+'/'+x.pool.size),x=>live(x,x=>x.claims_per_second.toFixed(1)),x=>live(x,x=>x.completions_per_second.toFixed(1)),
    x=>live(x,x=>x.links.filter(l=>l.state=='up').length+'/'+x.links.length),
    x=>live(x,x=>Object.entries(x.supervised_failures).map(e=>e[0]+'='+e[1]).join(' '))]);
  set('cluster-note',c.reachable+' reachable, '+c.unreachable+' unreachable; gathered by '+c.gathered_by+' in '+c.took_ms+' ms');
}
async function get(p){const r=await fetch(p);if(!r.ok)throw new Error(p+': '+r.status);return r.json();}
async function refresh(){
  try{
    const [h,w,d,r,u,qs]=await Promise.all([get('/health'),get('/workers'),get('/dead-jobs?limit=20'),get('/runs?limit=10'),get('/running?limit=20'),get('/queues')]);
    const now=Date.now();
    document.getElementById('running').innerHTML=u.map(x=>'<tr><td><a href="#job='+esc(x.id)+'">'+esc(x.id)+'</a></td><td>'+esc(x.type)+'</td><td>'+esc(x.attempt)+'</td><td>'+esc(x.worker)+'</td><td>'+esc(Math.round((now-Date.parse(x.locked_at))/1000))+'</td><td>'+pct(x.progress)+'</td><td>'+esc(x.progress?x.progress.message:'')+'</td></tr>').join('');
    rows('queue-states',qs,[x=>x.queue,x=>x.paused?'PAUSED since '+x.paused_at:'running',x=>x.due,x=>x.scheduled,x=>x.running,x=>x.concurrency==null?'-':x.concurrency,x=>x.at_limit_seconds==null?'':x.at_limit_seconds,otherLimits,x=>x.lag_seconds,()=>'']);
    document.querySelectorAll('#queue-states tr').forEach((tr,n)=>{const q=qs[n];const b=document.createElement('button');
      b.textContent=q.paused?'resume':'pause';b.className='queue-action';b.dataset.queue=q.queue;
      b.onclick=()=>queueAction(q.queue,q.paused?'resume':'pause').catch(e=>set('action','failed: '+e.message));
      tr.lastChild.appendChild(b);});
    rows('runs',r,[x=>x.id,x=>x.type,x=>x.label,x=>x.status,x=>x.counts.expected,x=>x.counts.queued,x=>x.counts.running,x=>x.counts.succeeded,x=>x.counts.failed]);
    set('version',h.runtime_version);set('node',h.node.worker_id);
    set('queued-total',h.jobs_queued.total);set('processing-count',h.jobs_processing.count);
    set('stuck-count',h.stuck_count);set('dead-24h',h.dead_last_24h);
    set('lag',h.estimated_lag_seconds);set('violations',h.policy_violations_last_24h);
    document.getElementById('alerts').innerHTML=h.alerts.length?h.alerts.map(a=>
      '<div class="alert '+esc(a.severity)+'"><b>'+esc(a.severity.toUpperCase())+' '+esc(a.code)+'</b> '+esc(a.message)+'</div>').join('')
      :'<div class="alert ok">no alerts</div>';
    rows('queues',Object.entries(h.jobs_queued.by_type),[e=>e[0],e=>e[1]]);
    rows('workers',w,[x=>x.worker_id,x=>x.worker_type+(x.singleton?' (singleton)':''),x=>x.status,x=>x.hostname,x=>x.pid,x=>x.version,x=>x.heartbeat_age_seconds]);
    rows('dead-jobs',d.jobs,[x=>x.id,x=>x.type,x=>x.reason,x=>x.last_error,x=>x.attempts,x=>x.correlation_id,x=>x.worker],true);
    await showJob();
    await refreshCluster().catch(e=>set('cluster-note','failed: '+e.message));
    const f=Object.entries(h.supervised_failures);
    set('failures',f.length?f.map(e=>e[0]+': '+e[1]).join(', '):'none');
    set('updated',new Date().toLocaleTimeString());
  }catch(e){set('updated','failed: '+e.message);
    // A request lost on the way (a node restarting, a connection reset):
    // try again soon rather than show the failure until the next round.
    if(!retrying){retrying=true;setTimeout(()=>{retrying=false;refresh();},500);}}
}
let retrying=false;
refresh();setInterval(refresh,3000);
</script></body></html>
)html";

} // namespace leasehold
