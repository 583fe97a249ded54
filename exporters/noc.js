// The NOC page's script (inlined into the page by exporters/noc.py: no external URL).
const REFRESH = __REFRESH__;
const SVGNS = "http://www.w3.org/2000/svg";
function esc(s){return String(s).replace(/[&<>"]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));}
function pairKey(a,b){return a<=b?a+"|"+b:b+"|"+a;}
function badge(node,count){
  let b=node.querySelector("g.alert-badge");
  if(!count){if(b)b.remove();return;}
  if(!b){
    const box=node.getBBox();
    b=document.createElementNS(SVGNS,"g");b.setAttribute("class","alert-badge");
    const c=document.createElementNS(SVGNS,"circle");
    c.setAttribute("cx",box.x+box.width-2);c.setAttribute("cy",box.y+2);c.setAttribute("r",8);
    const t=document.createElementNS(SVGNS,"text");
    t.setAttribute("x",box.x+box.width-2);t.setAttribute("y",box.y+5.5);
    t.setAttribute("text-anchor","middle");b.append(c,t);node.append(b);
  }
  b.querySelector("text").textContent=count;
}
function apply(s){
  const counts={};
  for(const a of s.alerts){if(a.host)counts[a.host]=(counts[a.host]||0)+1;}
  const tally={up:0,down:0,degraded:0,unknown:0};
  document.querySelectorAll("#map g.node").forEach(n=>{
    const h=n.dataset.host;
    if(n.dataset.tier==="internet"){return;}
    const st=s.nodes[h]||"unknown";n.dataset.state=st;tally[st]=(tally[st]||0)+1;
    n.dataset.alerts=counts[h]||0;badge(n,counts[h]||0);
    const t=n.querySelector("title");if(t)t.textContent=h+": "+st+(s.notes[h]?" — "+s.notes[h]:"");
  });
  document.querySelectorAll("#map g.link").forEach(l=>{
    const k=pairKey(l.dataset.a,l.dataset.b);
    l.dataset.state=l.dataset.kind==="internet"?(s.nodes[l.dataset.a]||"unknown"):(s.links[k]||"unknown");
  });
  document.getElementById("summary").innerHTML=
    Object.entries(tally).map(([k,v])=>`<span class="${k}" data-count="${v}" id="count-${k}">${k}: ${v}</span>`).join("");
  document.getElementById("alerts").innerHTML=s.alerts.map(a=>
    `<li class="${esc(a.severity)}" data-host="${esc(a.host)}" data-alertname="${esc(a.alertname)}">`+
    `<b>${esc(a.host||"-")}</b> ${esc(a.alertname)}${a.neighbor?" → "+esc(a.neighbor):""}<br><small>${esc(a.summary)}</small></li>`).join("")||"<li>none firing</li>";
  document.querySelectorAll("#alerts li[data-host]").forEach(li=>li.onclick=()=>show(li.dataset.host));
  document.getElementById("updated").textContent=s.updated;
  document.getElementById("errors").textContent=s.errors.join("; ");
  document.body.dataset.refreshed=(+(document.body.dataset.refreshed||0)+1);
}
async function poll(){
  try{const r=await fetch("api/status",{cache:"no-store"});apply(await r.json());}
  catch(e){document.getElementById("errors").textContent="status: "+e;}
  setTimeout(poll,REFRESH*1000);
}
async function show(host){
  document.querySelectorAll("#map g.node.selected").forEach(n=>n.classList.remove("selected"));
  const node=document.querySelector(`#map g.node[data-host="${CSS.escape(host)}"]`);
  if(node){node.classList.add("selected");}
  const r=await fetch("api/node?host="+encodeURIComponent(host),{cache:"no-store"});
  const d=await r.json();
  let h=`<h2>${esc(host)}</h2><a href="${esc(d.prometheus)}">series in Prometheus</a>`;
  if(d.error)h+=`<p class="err">${esc(d.error)}</p>`;
  h+="<h2>Interfaces</h2><table><tr><th>ifName</th><th>role</th><th>to</th><th>oper</th></tr>"+
    d.interfaces.map(i=>`<tr><td>${esc(i.ifName)}</td><td>${esc(i.role)}</td><td>${esc(i.neighbor)}</td><td>${esc(i.oper)}</td></tr>`).join("")+"</table>";
  h+="<h2>BGP peers</h2><table><tr><th>peer</th><th>vrf</th><th>state</th></tr>"+
    d.bgp.map(p=>`<tr><td>${esc(p.neighbor)}</td><td>${esc(p.vrf)}</td><td>${p.established?"Established":"down"}</td></tr>`).join("")+"</table>";
  const ro=d.rollout;
  h+="<h2>Last rollout</h2>"+(ro?`<p>${esc(ro.run_id)} (${esc(ro.started)}): ${esc(ro.outcome)}; this host: ${esc(ro.host_outcome)}<br><small>${esc(ro.report)}</small></p>`:"<p>none recorded</p>");
  const el=document.getElementById("detail");el.innerHTML=h;el.dataset.host=host;
}
document.querySelectorAll("#map g.node").forEach(n=>{
  if(n.dataset.tier!=="internet")n.addEventListener("click",()=>show(n.dataset.host));
});
const wanted=new URLSearchParams(location.search).get("host");
if(wanted)show(wanted);
poll();
