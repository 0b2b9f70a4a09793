/*! Kefu web chat widget: visitors' files. /widget.js loads it on the first file picked, pasted or
 * dropped, and calls window.KefuFiles(k) with the files and what it needs (see widget.js, attach).
 * Each file is uploaded with the widget session to /channels/web_chat/attachments; its ticket
 * then goes out in a `message` frame. Errors are said in the visitor's language (k.t). */
(function () {
  "use strict";
  var KNOWN = { file_too_large: 1, too_many_uploads: 1 };

  window.KefuFiles = function (k) {
    var st = k.st, t = k.t;
    k.files.forEach(function (file) {
      var m = {
        client_id: k.uid(), direction: "inbound", status: "sending", local: Date.now(), uploading: true,
        sender: { type: "contact", name: k.you },
        content: { text: "", attachments: [{ name: file.name || "file", mime: file.type || "", size: file.size }] },
        created_at: new Date().toISOString()
      };
      st.messages.push(m); k.render(); k.list.scrollTop = k.list.scrollHeight;
      var fail = function (key) {
        m.status = "failed"; m.uploading = false;
        k.notice(t(key)); k.save(); k.render();
      };
      if (!file.size) return fail("file_empty");
      if (!st.session) return fail("upload_failed");
      var form = new FormData();
      form.append("website_token", k.token); form.append("session", st.session); form.append("file", file, file.name || "file");
      fetch(k.origin + "/channels/web_chat/attachments", { method: "POST", body: form, credentials: "omit" }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) return fail(KNOWN[body.code] ? body.code : (res.status === 413 ? "file_too_large" : "upload_failed"));
          m.uploading = false; m.tickets = [body.ticket];
          m.content.attachments = [{ name: body.name, mime: body.mime, size: body.size, url: body.url }];
          if (k.ready()) k.sendMessage(m);
          k.save(); k.render();
        });
      }, function () { fail("upload_failed"); });
    });
  };
})();
