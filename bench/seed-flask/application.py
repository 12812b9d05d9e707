"""The seed's IVR, as its tutorial writes it, for a same-machine comparison with Hotline.

One Flask route per decision node; each reads template.xml from disk, formats it and
round-trips it through lxml; the answer is a simple word search, as in the tutorial. No
signature check and no record kept, as in the seed. Served by gunicorn as the seed's
Dockerfile runs it: `gunicorn -w 2 --worker-class=gthread worker:app`.
"""
import re
from flask import Flask, request, Response
from flask_cors import CORS
from lxml import etree

app = Flask(__name__)
CORS(app)

BASE = "https://calaster-funnel.s3.eu-west-3.amazonaws.com/"
# node -> (prompt, next node); the six symptom questions end on the students' line.
NODES = {
    "": ("classification.mp3", "need-for-medical-assistance"),
    "need-for-medical-assistance": ("symptom-1.mp3", "symptom-1"),
    "symptom-1": ("symptom-2.mp3", "symptom-2"),
    "symptom-2": ("symptom-3.mp3", "symptom-3"),
    "symptom-3": ("symptom-4.mp3", "symptom-4"),
    "symptom-4": ("symptom-5.mp3", "symptom-5"),
    "symptom-5": ("symptom-6.mp3", "symptom-6"),
}


def template(sound, url):
    with open("template.xml") as f:
        xml = "".join([e.strip() for e in f.readlines()])
    return etree.tostring(etree.XML(xml.format(BASE + sound, url, url).encode()), method="xml")


def answer(xml):
    return Response(xml, status=200, mimetype="text/xml")


@app.route("/flows/seed/voice", methods=["POST"])
def bin_():
    # The TwiML Bin (hosted by Twilio in the seed): intro, beep, gather -> "/".
    return answer(template("intro.mp3", ""))


def step(node):
    src = request.values.get("SpeechResult", "").lower()
    src = re.sub("[^a-zA-Z]+", " ", src)
    if node == "" and "non" in src.split():
        xml = "<Response><Play>{}</Play></Response>".format(BASE + "queue-samu.mp3")
        return answer(etree.tostring(etree.XML(xml), method="xml"))
    if node == "symptom-6" or node not in NODES:
        xml = "<Response><Play>{}</Play></Response>".format(BASE + "divert-students.mp3")
        return answer(etree.tostring(etree.XML(xml), method="xml"))
    sound, nxt = NODES[node]
    return answer(template(sound, nxt))


@app.route("/", methods=["POST"])
def step_01():
    return step("")


@app.route("/<node>", methods=["POST"])
def step_n(node):
    return step(node)


@app.route("/status", methods=["POST"])
def status():
    return Response("", status=204)
